using System.Net;
using Microsoft.AspNetCore.Connections;

namespace GracefulHosting.Endpoints;

// Its listeners accept and own nothing, so Kestrel's stop and dispose leave the sockets as they are.
internal sealed class ProbeTransport : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    private readonly Func<EndPoint, EndPoint> _bind;

    public ProbeTransport(Func<EndPoint, EndPoint> bind) => _bind = bind;

    // Named pipes are left for Kestrel to reject.
    public bool CanBind(EndPoint endpoint) => EndpointText.Format(endpoint) is not null;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult<IConnectionListener>(new Listener(_bind(endpoint)));

    private sealed class Listener : IConnectionListener
    {
        private readonly TaskCompletionSource<ConnectionContext?> _unbound = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Listener(EndPoint endpoint) => EndPoint = endpoint;

        public EndPoint EndPoint { get; }

        // Null, once Kestrel unbinds, ends Kestrel's accept loop.
        public ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default) => new(_unbound.Task);

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
        {
            _unbound.TrySetResult(null);
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync() => UnbindAsync();
    }
}
