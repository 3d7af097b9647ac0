using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GracefulHosting.Child.Warmup;

/// <summary>Runs the app's <see cref="IGracefulRestartWarmup"/> hooks, one after the other, in a scope of their own.</summary>
internal sealed class WarmupHooks(IServiceScopeFactory scopes, TimeProvider time, ILogger<WarmupHooks> logger)
{
    /// <summary>
    /// Runs every hook within <paramref name="budget"/>. A hook that throws, or is still running when the
    /// time is up, throws <see cref="WarmupFailedException"/> saying which and why; the app stopping
    /// throws <see cref="OperationCanceledException"/>.
    /// </summary>
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

    /// <summary>
    /// True when a generation has anything to warm up: a request (<see cref="GracefulRestartOptions.WarmupPath"/>
    /// is not empty, or requests are listed) or a hook in <paramref name="services"/>. Until then its
    /// listeners accept nothing.
    /// </summary>
    public static bool AnyWork(GracefulRestartOptions options, IServiceCollection services) =>
        options.WarmupPath != "" || options.Warmup.Requests.Count > 0 || services.Any(d => d.ServiceType == typeof(IGracefulRestartWarmup));

    private static string Describe(IGracefulRestartWarmup hook, int index, int count) =>
        $"{index + 1} of {count} ({(hook is DelegateWarmup ? "delegate" : hook.GetType().FullName)})";
}
