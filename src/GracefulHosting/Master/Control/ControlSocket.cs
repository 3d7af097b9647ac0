using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text;
using GracefulHosting.Interop;
using GracefulHosting.Master.Sockets;
using Microsoft.Extensions.Logging;

namespace GracefulHosting.Master.Control;

// Mode 0600 and a peer check (this user or root) keep others out; a client that misbehaves ends only its own connection.
[SupportedOSPlatform("linux")]
internal sealed class ControlSocket : IDisposable
{
    private const int MaxLine = 256;
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(10);

    private readonly BoundListener _listener;
    private readonly IControlCommands _commands;
    private readonly ILogger _logger;
    private readonly uint _uid;
    private readonly CancellationTokenSource _stopping = new();

    private ControlSocket(BoundListener listener, string path, IControlCommands commands, ILogger logger)
    {
        _listener = listener;
        Path = path;
        _commands = commands;
        _logger = logger;
        _uid = Libc.GetEffectiveUserId();
        _ = AcceptLoopAsync();
    }

    public string Path { get; }

    // A stale socket file is replaced; a live one (another master) or another kind of file is refused, as SocketBinder refuses them.
    public static ControlSocket Open(string path, IControlCommands commands, ILogger logger)
    {
        string? folder = System.IO.Path.GetDirectoryName(path);
        if (folder is not null && !Directory.Exists(folder))
        {
            Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var listener = SocketBinder.Bind(new UnixDomainSocketEndPoint(path), "unix:" + path, "GracefulRestart:ControlSocket", logger);
        try
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        catch
        {
            listener.Close();
            throw;
        }

        return new ControlSocket(listener, path, commands, logger);
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.Socket.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                // Out of descriptors and the like: the next accept may succeed; never a busy loop.
                ControlLog.AcceptFailed(_logger, e.Message);
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(100), _stopping.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(Socket client)
    {
        using (client)
        {
            try
            {
                int error = UnixMessages.GetPeer((int)client.SafeHandle.DangerousGetHandle(), out int pid, out uint uid);
                // Read before answering, even a refusal: a close with unread input resets the connection,
                // and the client would lose the answer.
                string? command = await ReadLineAsync(client).ConfigureAwait(false);
                if (error != 0 || (uid != _uid && uid != 0))
                {
                    ControlLog.PeerRefused(_logger, pid, uid);
                    await WriteAsync(client, "ERROR permission denied: only the user the master runs as, or root, may use its control socket\n").ConfigureAwait(false);
                    return;
                }

                switch (command)
                {
                    case "reload":
                        ControlLog.ReloadRequested(_logger, pid);
                        var outcome = await _commands.ReloadAsync(_stopping.Token).ConfigureAwait(false);
                        await WriteAsync(client, (outcome.Succeeded ? "OK " : "ERROR ") + outcome.Message + "\n").ConfigureAwait(false);
                        break;
                    case "status":
                        await WriteAsync(client, string.Concat(_commands.Status().Select(l => l + "\n")) + "OK\n").ConfigureAwait(false);
                        break;
                    case null:
                        await WriteAsync(client, "ERROR no command: send one line, 'reload' or 'status'\n").ConfigureAwait(false);
                        break;
                    default:
                        await WriteAsync(client, $"ERROR unknown command '{Printable(command)}': the commands are 'reload' and 'status'\n").ConfigureAwait(false);
                        break;
                }
            }
            catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException or OperationCanceledException)
            {
                // The client went away, or the master is stopping: only this connection ends.
                ControlLog.ClientFailed(_logger, e.Message);
            }
            catch (Exception e)
            {
                ControlLog.ClientFailed(_logger, e.ToString());
            }
        }
    }

    // Null when no whole line, short enough, comes in time.
    private async Task<string?> ReadLineAsync(Socket client)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        timeout.CancelAfter(ReadTimeout);
        var buffer = new byte[MaxLine];
        int length = 0;
        try
        {
            while (length < buffer.Length)
            {
                int read = await client.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, timeout.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                int newline = Array.IndexOf(buffer, (byte)'\n', length, read);
                length += read;
                if (newline >= 0)
                {
                    return Encoding.UTF8.GetString(buffer, 0, newline).Trim();
                }
            }
        }
        catch (OperationCanceledException) when (!_stopping.IsCancellationRequested)
        {
            return null;
        }

        return length > 0 && length < buffer.Length ? Encoding.UTF8.GetString(buffer, 0, length).Trim() : null;
    }

    private static async Task WriteAsync(Socket client, string text) =>
        await client.SendAsync(Encoding.UTF8.GetBytes(text), SocketFlags.None).ConfigureAwait(false);

    private static string Printable(string text) =>
        new(text.Take(40).Select(c => char.IsControl(c) ? '?' : c).ToArray());

    public void Dispose()
    {
        _stopping.Cancel();
        _listener.Close();
        _stopping.Dispose();
    }
}
