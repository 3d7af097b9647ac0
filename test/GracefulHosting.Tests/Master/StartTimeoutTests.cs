using System.Runtime.Versioning;
using GracefulHosting.Master;
using Microsoft.Extensions.Time.Testing;

namespace GracefulHosting.Tests.Master;

/// <summary>The start timeout runs on the master's <see cref="TimeProvider"/>, not on the wall clock.</summary>
[SupportedOSPlatform("linux")]
public sealed class StartTimeoutTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _time = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    [LinuxFact]
    public async Task WaitUntilReady_ClockReachesStartTimeout_NotReadyWithTheSettingNamed()
    {
        var wait = Wait(CancellationToken.None);

        _time.Advance(StartTimeout - TimeSpan.FromMilliseconds(1));
        await Task.Yield();
        Assert.False(wait.IsCompleted, "the wait ended before the clock reached StartTimeout");

        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal("it was not ready within GracefulRestart:StartTimeout (00:01:00)", await wait.WaitAsync(Generous));
    }

    [LinuxFact]
    public async Task WaitUntilReady_ReadyBeforeTheTimeout_Null()
    {
        var wait = Wait(CancellationToken.None);

        _time.Advance(StartTimeout / 2);
        _ready.SetResult();

        Assert.Null(await wait.WaitAsync(Generous));
    }

    [LinuxFact]
    public async Task WaitUntilReady_ChildExitsFirst_ExitDescribed()
    {
        var wait = Wait(CancellationToken.None);

        _exited.SetResult(128 + 6);

        Assert.Equal("it exited before it was ready (signal 6 (exit code 134))", await wait.WaitAsync(Generous));
    }

    [LinuxFact]
    public async Task WaitUntilReady_MasterStops_StoppingNotTimeout()
    {
        using var stopping = new CancellationTokenSource();
        var wait = Wait(stopping.Token);

        await stopping.CancelAsync();

        Assert.Equal("the master is stopping", await wait.WaitAsync(Generous));
    }

    private Task<string?> Wait(CancellationToken cancellationToken) =>
        MasterService.WaitUntilReadyAsync(_ready.Task, _exited.Task, StartTimeout, _time, cancellationToken);
}
