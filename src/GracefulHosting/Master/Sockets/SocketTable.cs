using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using GracefulHosting.Endpoints;
using GracefulHosting.Protocol;
using GracefulHosting.Systemd;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace GracefulHosting.Master.Sockets;

// A socket closes once no live generation holds it and the serving one does not use it: a dropped endpoint goes with the old generation.
[SupportedOSPlatform("linux")]
internal sealed class SocketTable : IDisposable
{
    private readonly List<TableSocket> _sockets = [];
    private readonly HashSet<int> _adoptableHandles;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private HashSet<TableSocket> _serving = [];

    private SocketTable(IEnumerable<TableSocket> activated, IEnumerable<int> adoptableHandles, bool fromSystemd, ILogger logger)
    {
        _sockets.AddRange(activated);
        _adoptableHandles = [.. adoptableHandles];
        FromSystemd = fromSystemd;
        _logger = logger;
        SystemdUrls = _sockets.Select(s => EndpointText.HttpUrl(s.Local)).OfType<string>().ToList();
    }

    // The table then binds nothing.
    public bool FromSystemd { get; }

    // For an app that names no URLs of its own.
    public IReadOnlyList<string> SystemdUrls { get; }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _sockets.Count;
            }
        }
    }

    // adoptableHandles: descriptors this process inherited, which an app may name with ListenHandle.
    public static SocketTable ForBinding(IEnumerable<int> adoptableHandles, ILogger logger) =>
        new([], adoptableHandles, fromSystemd: false, logger);

    public static SocketTable ForActivation(SocketActivation activation, ILogger logger)
    {
        var opened = new List<TableSocket>();
        try
        {
            foreach (var activated in activation.Sockets)
            {
                var socket = ActivatedSockets.Open(activated);
                opened.Add(new TableSocket(null, socket.Socket, socket.Local, ListenerOrigin.Systemd, activated));
            }
        }
        catch
        {
            foreach (var socket in opened)
            {
                socket.Close();
            }

            throw;
        }

        return new SocketTable(opened, [], fromSystemd: true, logger);
    }

    // The table's own descriptor, open while anyone holds it; or -1 with a refusal that names the endpoint, its setting and the cause.
    public int Acquire(int holder, SocketRequest request, out SocketReply reply)
    {
        lock (_lock)
        {
            var socket = Find(holder, request, out string? matchedBy);
            if (socket is null)
            {
                try
                {
                    socket = FromSystemd ? null : Bind(request);
                }
                catch (AddressInUseException e)
                {
                    reply = SocketReply.Refuse(SocketRefusal.InUse, e.Message);
                    return -1;
                }
                catch (InvalidOperationException e)
                {
                    reply = SocketReply.Refuse(SocketRefusal.Other, e.Message);
                    return -1;
                }

                if (socket is null)
                {
                    reply = SocketReply.Refuse(SocketRefusal.Other, NoSystemdSocket(request));
                    return -1;
                }

                _sockets.Add(socket);
                if (socket.Activated is null)
                {
                    MasterLog.SocketBound(_logger, socket.Address, request.Setting, holder, socket.Fd);
                }
            }

            socket.Endpoint = request.Endpoint;
            socket.MatchedBy ??= matchedBy;
            socket.Holders.Add(holder);
            reply = SocketReply.Grant(request.Endpoint);
            return socket.Fd;
        }
    }

    // The serving generation's sockets are kept even while no process holds them (StopFirst, a crash).
    public void Serving(int holder, IReadOnlyList<string> urls)
    {
        lock (_lock)
        {
            _serving = _sockets.Where(s => s.Holders.Contains(holder)).ToHashSet();
            foreach (var socket in _serving.Where(s => !s.Announced))
            {
                socket.Announced = true;
                string url = EndpointText.FindUrl(urls, socket.Local);
                if (socket.Activated is { } activated)
                {
                    EndpointLog.SystemdSocketAdopted(_logger, socket.Address, activated.Fd, activated.Name ?? "-", url, socket.MatchedBy ?? "address");
                }
                else
                {
                    MasterLog.ListenerBound(_logger, socket.Address, url, socket.Fd);
                }
            }

            foreach (var unused in _sockets.Where(s => s.Activated is not null && !_serving.Contains(s) && !s.Announced))
            {
                unused.Announced = true;
                EndpointLog.SystemdSocketUnused(_logger, unused.Address, unused.Activated!.Fd, unused.Activated.Name ?? "-");
            }

            CloseUnheld();
        }
    }

    public void Release(int holder)
    {
        lock (_lock)
        {
            foreach (var socket in _sockets)
            {
                socket.Holders.Remove(holder);
            }

            CloseUnheld();
        }
    }

    // While children still drain, so that new connections are refused at once, not left in a backlog; systemd's stay, it queues for the next start.
    public int CloseBound()
    {
        lock (_lock)
        {
            var bound = _sockets.Where(s => s.Origin != ListenerOrigin.Systemd).ToList();
            foreach (var socket in bound)
            {
                socket.Close();
                _sockets.Remove(socket);
            }

            return bound.Count;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var socket in _sockets)
            {
                socket.Close();
            }

            _sockets.Clear();
        }
    }

    private void CloseUnheld()
    {
        // Only sockets the table bound: systemd's and inherited ones could not be had again once closed.
        foreach (var socket in _sockets.Where(s => s.Origin == ListenerOrigin.Bound && s.Holders.Count == 0 && !_serving.Contains(s)).ToList())
        {
            string address = socket.Address;
            socket.Close();
            _sockets.Remove(socket);
            MasterLog.ListenerClosed(_logger, address, socket.Endpoint ?? "?");
        }
    }

    // Under socket activation, by FileDescriptorName=, then descriptor, then address (a socket named for another endpoint last).
    private TableSocket? Find(int holder, SocketRequest request, out string? matchedBy)
    {
        matchedBy = null;
        var free = _sockets.Where(s => !s.Holders.Contains(holder)).ToList();
        var same = free.FirstOrDefault(s => s.Endpoint == request.Endpoint);
        if (same is not null || !FromSystemd)
        {
            return same;
        }

        if (request.Name is { } name &&
            free.FirstOrDefault(s => string.Equals(s.Activated?.Name, name, StringComparison.OrdinalIgnoreCase)) is { } named)
        {
            matchedBy = $"name (Kestrel:Endpoints:{name})";
            return named;
        }

        var requested = EndpointText.Parse(request.Endpoint);
        if (requested is FileHandleEndPoint handle)
        {
            matchedBy = "descriptor";
            return free.FirstOrDefault(s => (ulong)s.Activated!.Fd == handle.FileHandle);
        }

        matchedBy = "address";
        return free
            .OrderBy(s => s.Activated?.Name is not null)
            .FirstOrDefault(s => ActivatedSockets.SameAddress(requested, s.Local));
    }

    private TableSocket Bind(SocketRequest request)
    {
        var requested = EndpointText.Parse(request.Endpoint);
        if (requested is FileHandleEndPoint handle && !_adoptableHandles.Contains(checked((int)handle.FileHandle)))
        {
            throw new InvalidOperationException(
                $"Cannot listen on {request.Endpoint} for {request.Setting}: descriptor {handle.FileHandle} is not a listening socket the master inherited when it started.");
        }

        var listener = SocketBinder.Bind(requested, request.Endpoint, request.Setting, _logger);
        return new TableSocket(request.Endpoint, listener.Socket, listener.Socket.LocalEndPoint!, listener.Origin, null, listener.File);
    }

    private string NoSystemdSocket(SocketRequest request) =>
        $"Kestrel asked for {request.Endpoint} ({request.Setting}), but systemd passed no socket for it " +
        $"(it passed {string.Join(", ", _sockets.Select(s => s.Address + (s.Activated?.Name is { } n ? $" named {n}" : "")))}). " +
        "Under socket activation nothing binds sockets itself: listen on that address in the .socket unit, " +
        "or name the socket after the Kestrel:Endpoints entry with FileDescriptorName=.";

    private sealed class TableSocket(string? endpoint, Socket socket, EndPoint local, ListenerOrigin origin, ActivatedSocket? activated, UnixSocketFile? file = null)
    {
        public string? Endpoint { get; set; } = endpoint;

        public EndPoint Local { get; } = local;

        public ListenerOrigin Origin { get; } = origin;

        public ActivatedSocket? Activated { get; } = activated;

        public HashSet<int> Holders { get; } = [];

        public string? MatchedBy { get; set; }

        public bool Announced { get; set; }

        public int Fd { get; } = (int)socket.SafeHandle.DangerousGetHandle();

        public string Address => EndpointText.Format(Local) ?? Local.ToString() ?? "?";

        public void Close() => new BoundListener(Endpoint ?? "?", socket, Origin, file).Close();
    }
}
