using GracefulHosting.Child.Warmup;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace GracefulHosting.Tests.Child.Warmup;

public class WarmupHooksTests
{
    private sealed class Scoped;

    private sealed class TypedWarmup(Scoped scoped, List<string> calls) : IGracefulRestartWarmup
    {
        public Task WarmUpAsync(CancellationToken cancellationToken)
        {
            calls.Add($"typed {scoped is not null}");
            return Task.CompletedTask;
        }
    }

    private static (WarmupHooks Hooks, ServiceProvider Provider) Build(FakeTimeProvider time, Action<IServiceCollection> add)
    {
        var services = new ServiceCollection();
        add(services);
        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
        return (new WarmupHooks(provider.GetRequiredService<IServiceScopeFactory>(), time, NullLogger<WarmupHooks>.Instance), provider);
    }

    private static WarmupBudget Budget(FakeTimeProvider time, CancellationToken stopping = default) =>
        new(TimeSpan.FromSeconds(10), TimeSpan.Zero, time, stopping);

    [Fact]
    public async Task RunAsync_DelegateAndTypedHooks_RunInOrderWithScopedServices()
    {
        var calls = new List<string>();
        var time = new FakeTimeProvider();
        var (hooks, provider) = Build(time, services =>
        {
            services.AddSingleton(calls);
            services.AddScoped<Scoped>();
            services.AddGracefulRestartWarmup((sp, _) =>
            {
                calls.Add($"delegate {sp.GetRequiredService<Scoped>() is not null}");
                return Task.CompletedTask;
            });
            services.AddGracefulRestartWarmup<TypedWarmup>();
        });
        await using var _ = provider;
        using var budget = Budget(time);

        await hooks.RunAsync(budget);

        Assert.Equal(["delegate True", "typed True"], calls);
    }

    [Fact]
    public async Task RunAsync_HookThrows_FailsNamingTheHookAndTheReason()
    {
        var time = new FakeTimeProvider();
        var (hooks, provider) = Build(time, services => services.AddGracefulRestartWarmup((_, _) =>
            throw new InvalidOperationException("the database is locked")));
        await using var _ = provider;
        using var budget = Budget(time);

        var e = await Assert.ThrowsAsync<WarmupFailedException>(() => hooks.RunAsync(budget));

        Assert.Equal("warm-up hook 1 of 1 (delegate) failed: InvalidOperationException: the database is locked", e.Message);
    }

    [Fact]
    public async Task RunAsync_HookIgnoresItsTokenPastTheBudget_FailsNamingTheStartTimeout()
    {
        var time = new FakeTimeProvider();
        var never = new TaskCompletionSource();
        var (hooks, provider) = Build(time, services => services.AddGracefulRestartWarmup((_, _) => never.Task));
        await using var _ = provider;
        using var budget = Budget(time);

        var run = hooks.RunAsync(budget);
        Assert.False(run.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(9));

        var e = await Assert.ThrowsAsync<WarmupFailedException>(() => run);
        Assert.Equal("warm-up hook 1 of 1 (delegate) did not finish within GracefulRestart:StartTimeout (00:00:10)", e.Message);
    }

    [Fact]
    public async Task RunAsync_AppStops_CancelledWithoutAFailure()
    {
        var time = new FakeTimeProvider();
        using var stopping = new CancellationTokenSource();
        var (hooks, provider) = Build(time, services => services.AddGracefulRestartWarmup((_, ct) => Task.Delay(Timeout.Infinite, ct)));
        await using var _ = provider;
        using var budget = Budget(time, stopping.Token);

        var run = hooks.RunAsync(budget);
        await stopping.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
    }

    [Fact]
    public void AnyWork_NoRequestsButAHook_True()
    {
        var services = new ServiceCollection().AddGracefulRestartWarmup((_, _) => Task.CompletedTask);

        Assert.True(WarmupHooks.AnyWork(new GracefulRestartOptions { WarmupPath = "" }, services));
    }

    [Fact]
    public void AnyWork_NoRequestsAndNoHook_False()
    {
        Assert.False(WarmupHooks.AnyWork(new GracefulRestartOptions { WarmupPath = "" }, new ServiceCollection()));
    }

    [Fact]
    public void AnyWork_DefaultOrListedRequests_True()
    {
        var listed = new GracefulRestartOptions();
        listed.Warmup.Requests.Add(new GracefulRestartWarmupRequest { Path = "/" });

        Assert.True(WarmupHooks.AnyWork(new GracefulRestartOptions(), new ServiceCollection()));
        Assert.True(WarmupHooks.AnyWork(listed, new ServiceCollection()));
    }

    [Fact]
    public async Task RunAsync_NoHooks_Completes()
    {
        var time = new FakeTimeProvider();
        var (hooks, provider) = Build(time, _ => { });
        await using var _ = provider;
        using var budget = Budget(time);

        await hooks.RunAsync(budget);
    }
}
