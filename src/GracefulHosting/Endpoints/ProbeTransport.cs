using System.Net;
using Microsoft.AspNetCore.Connections;

namespace GracefulHosting.Endpoints;

/// <summary>
/// The transport of <see cref="KestrelEndpointProbe"/>: for each endpoint Kestrel asks for it calls
/// <c>bind</c>, which finds or binds the socket that stands in for it and returns the address that
/// socket is bound to. The listener it returns accepts nothing and owns nothing, so Kestrel's stop
/// and dispose leave the socket as it is.
/// </summary>
internal sealed class ProbeTransport : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    private readonly Func<EndPoint, EndPoint> _bind;

    public ProbeTransport(Func<EndPoint, EndPoint> bind) => _bind = bind;

    /// <summary>TCP, Unix domain sockets and descriptors; named pipes are left for Kestrel to reject.</summary>
    public bool CanBind(EndPoint endpoint) => EndpointText.Format(endpoint) is not null;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult<IConnectionListener>(new Listener(_bind(endpoint)));

    private sealed class Listener : IConnectionListener
    {
        private readonly TaskCompletionSource<ConnectionContext?> _unbound = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Listener(EndPoint endpoint) => EndPoint = endpoint;

        public EndPoint EndPoint { get; }

        /// <summary>Completes with null, which ends Kestrel's accept loop, once Kestrel unbinds.</summary>
        public ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default) => new(_unbound.Task);

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
        {
            _unbound.TrySetResult(null);
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync() => UnbindAsync();
    }
}
