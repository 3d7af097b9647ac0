using System.Net;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;

namespace GracefulHosting.Endpoints;

/// <summary>
/// The transport of <see cref="KestrelEndpointProbe"/>: for each endpoint Kestrel asks for it calls
/// <c>bind</c>, which finds or binds the socket that stands in for it and returns the address that
/// socket is bound to. The listener it returns owns nothing, so Kestrel's stop and dispose leave the
/// socket as it is, and accepts only the in-memory connections the probe hands it.
/// </summary>
internal sealed class ProbeTransport : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    private readonly Func<EndPoint, EndPoint> _bind;
    private readonly List<Listener> _listeners = [];
    private readonly Lock _lock = new();

    public ProbeTransport(Func<EndPoint, EndPoint> bind) => _bind = bind;

    /// <summary>The listeners Kestrel bound, in the order it asked for their endpoints.</summary>
    public IReadOnlyList<Listener> Listeners
    {
        get
        {
            lock (_lock)
            {
                return [.. _listeners];
            }
        }
    }

    /// <summary>TCP, Unix domain sockets and descriptors; named pipes are left for Kestrel to reject.</summary>
    public bool CanBind(EndPoint endpoint) => EndpointText.Format(endpoint) is not null;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var listener = new Listener(endpoint, _bind(endpoint));
        lock (_lock)
        {
            _listeners.Add(listener);
        }

        return ValueTask.FromResult<IConnectionListener>(listener);
    }

    /// <summary>A listener of the probe's Kestrel, with the endpoint Kestrel asked for.</summary>
    internal sealed class Listener : IConnectionListener
    {
        private readonly Channel<ConnectionContext> _handed = Channel.CreateUnbounded<ConnectionContext>();

        public Listener(EndPoint asked, EndPoint endpoint)
        {
            Asked = asked;
            EndPoint = endpoint;
        }

        /// <summary>The endpoint Kestrel asked the transport for.</summary>
        public EndPoint Asked { get; }

        public EndPoint EndPoint { get; }

        /// <summary>Queues a connection for Kestrel to accept next.</summary>
        public void Hand(ConnectionContext connection) => _handed.Writer.TryWrite(connection);

        /// <summary>The next connection handed over; null, which ends Kestrel's accept loop, once Kestrel unbinds.</summary>
        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            while (await _handed.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                if (_handed.Reader.TryRead(out var connection))
                {
                    return connection;
                }
            }

            return null;
        }

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
        {
            _handed.Writer.TryComplete();
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync() => UnbindAsync();
    }
}
