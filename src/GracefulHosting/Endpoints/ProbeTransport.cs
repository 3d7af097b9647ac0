using System.Net;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;

namespace GracefulHosting.Endpoints;

// Its listeners own nothing, so Kestrel's stop and dispose leave the sockets as they are, and accept only the probe's in-memory connections.
internal sealed class ProbeTransport : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    private readonly Func<EndPoint, EndPoint> _bind;
    private readonly List<Listener> _listeners = [];
    private readonly Lock _lock = new();

    public ProbeTransport(Func<EndPoint, EndPoint> bind) => _bind = bind;

    // In the order Kestrel asked for their endpoints.
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

    // Named pipes are left for Kestrel to reject.
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

    internal sealed class Listener : IConnectionListener
    {
        private readonly Channel<ConnectionContext> _handed = Channel.CreateUnbounded<ConnectionContext>();

        public Listener(EndPoint asked, EndPoint endpoint)
        {
            Asked = asked;
            EndPoint = endpoint;
        }

        public EndPoint Asked { get; }

        public EndPoint EndPoint { get; }

        // Null, once Kestrel unbinds, ends Kestrel's accept loop.
        public void Hand(ConnectionContext connection) => _handed.Writer.TryWrite(connection);

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
