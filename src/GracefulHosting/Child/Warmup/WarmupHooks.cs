using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GracefulHosting.Child.Warmup;

// In a scope of their own, so that a hook may take scoped services such as a DbContext.
internal sealed class WarmupHooks(IServiceScopeFactory scopes, TimeProvider time, ILogger<WarmupHooks> logger)
{
    // A hook that throws or overruns the budget fails the start; the app stopping throws OperationCanceledException.
    public async Task RunAsync(WarmupBudget budget)
    {
        await using var scope = scopes.CreateAsyncScope();
        IReadOnlyList<IGracefulRestartWarmup> hooks;
        try
        {
            hooks = [.. scope.ServiceProvider.GetServices<IGracefulRestartWarmup>()];
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            throw new WarmupFailedException($"cannot create the warm-up hooks: {e.Message}", e);
        }

        for (int i = 0; i < hooks.Count; i++)
        {
            string name = Describe(hooks[i], i, hooks.Count);
            long began = time.GetTimestamp();
            try
            {
                // WaitAsync: a hook that ignores its token must not hold the start past the budget.
                await hooks[i].WarmUpAsync(budget.Token).WaitAsync(budget.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (budget.Expired)
            {
                throw new WarmupFailedException(
                    $"warm-up hook {name} did not finish within {GracefulRestartOptions.SectionName}:StartTimeout ({budget.StartTimeout:c})");
            }
            catch (Exception e) when (e is not OperationCanceledException || !budget.Token.IsCancellationRequested)
            {
                throw new WarmupFailedException($"warm-up hook {name} failed: {e.GetType().Name}: {e.Message.TrimEnd('.')}", e);
            }

            WarmupLog.HookDone(logger, name, time.GetElapsedTime(began).TotalMilliseconds);
        }
    }

    // With nothing to warm up, the listeners accept from the start.
    public static bool AnyWork(GracefulRestartOptions options, IServiceCollection services) =>
        options.WarmupPath != "" || options.Warmup.Requests.Count > 0 || services.Any(d => d.ServiceType == typeof(IGracefulRestartWarmup));

    private static string Describe(IGracefulRestartWarmup hook, int index, int count) =>
        $"{index + 1} of {count} ({(hook is DelegateWarmup ? "delegate" : hook.GetType().FullName)})";
}
