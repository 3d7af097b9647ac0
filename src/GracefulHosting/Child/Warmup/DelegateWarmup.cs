namespace GracefulHosting.Child.Warmup;

/// <summary>A warm-up hook given as a delegate, bound to the services of the scope it was resolved from.</summary>
internal sealed class DelegateWarmup(IServiceProvider services, Func<IServiceProvider, CancellationToken, Task> warmup) : IGracefulRestartWarmup
{
    public Task WarmUpAsync(CancellationToken cancellationToken) => warmup(services, cancellationToken);
}
