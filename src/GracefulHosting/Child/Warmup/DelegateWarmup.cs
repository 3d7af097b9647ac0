namespace GracefulHosting.Child.Warmup;

internal sealed class DelegateWarmup(IServiceProvider services, Func<IServiceProvider, CancellationToken, Task> warmup) : IGracefulRestartWarmup
{
    public Task WarmUpAsync(CancellationToken cancellationToken) => warmup(services, cancellationToken);
}
