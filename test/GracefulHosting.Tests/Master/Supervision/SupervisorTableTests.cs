using System.Runtime.Versioning;
using GracefulHosting.Master;
using GracefulHosting.Master.Supervision;
using Microsoft.Extensions.Logging;

namespace GracefulHosting.Tests.Master.Supervision;

/// <summary>
/// The supervision's table: one test per (event × state) cell, each asserting what systemd hears,
/// which children live, what is logged and what is counted. Cells that cannot happen show that the
/// event is ignored safely. Known historical bugs have cells of their own, named after them.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class SupervisorTableTests
{
    private const int ChildStarted = 10;
    private const int ChildReadyId = 11;
    private const int ChildStopping = 12;
    private const int ChildExitedId = 13;
    private const int ChildKilled = 14;
    private const int ChildFailedToStart = 15;
    private const int ChildStartFailed = 16;
    private const int ChildCrashed = 17;
    private const int RestartRequestedId = 20;
    private const int RestartCoalesced = 21;
    private const int RestartCompleted = 22;
    private const int RolledBack = 23;
    private const int CrashBackoff = 24;
    private const int MasterStopping = 30;
    private const int MasterStopped = 31;
    private const int ListenersClosedForStop = 34;
    private const int ChildStartAbandoned = 36;
    private const int RestartIgnoredWhileStopping = 38;

    private const string Stopping = "STOPPING=1\nSTATUS=Stopping every generation";

    private static readonly TimeSpan StartTimeout = new GracefulRestartOptions().StartTimeout;
    private static readonly TimeSpan ExitTimeout = new GracefulRestartOptions().ExitTimeout;
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(1);

    private static string Ready(int generation) => $"READY=1\nSTATUS=Generation {generation} (pid {1000 + generation}) serving";

    private static string Reloading(string source = "SIGHUP") => $"RELOADING=1\nSTATUS=Reloading: restart requested ({source})";

    private static TaskCompletionSource<RestartOutcome> Waiter() => new();

    // ---- Starting: generation 1 starts, nothing serves yet ----

    [LinuxFact]
    public void Starting_Begin_FirstGenerationStartedNothingSent()
    {
        using var h = new Harness();

        h.Machine.Begin();
        h.Run();

        Assert.Equal([ChildStarted], h.Logged);
        Assert.Empty(h.Sent);
        Assert.Equal([1], h.Alive);
        Assert.Equal(SupervisorState.Starting, h.Machine.State);
    }

    [LinuxFact]
    public void Starting_RestartRequested_ReloadingAtOnceRestartAfterTheFirstServes()
    {
        using var h = new Harness().ToStarting();

        h.Send(new RestartRequested("SIGHUP"));

        Assert.Equal([RestartRequestedId], h.Logged);
        Assert.Equal([Reloading()], h.Sent);
        Assert.Equal([1], h.Alive);

        h.Child(1).BecomeReady();
        h.Run();
        Assert.Equal(SupervisorState.Restarting, h.Machine.State);
        Assert.Equal([1, 2], h.Alive);
    }

    [LinuxFact]
    public async Task Starting_StopRequested_ChildKilledInfoNotFailureNoReadyExitZero()
    {
        using var h = new Harness().ToStarting();

        h.Send(new StopRequested());

        Assert.Equal([MasterStopping, ChildStartAbandoned], h.Logged);
        Assert.Equal(LogLevel.Information, h.Records[^1].Level);
        Assert.Equal(["SIGKILL"], h.Child(1).Signals);
        Assert.Equal(SupervisorState.Stopping, h.Machine.State);

        h.Child(1).Exit(137);
        h.Run();

        Assert.Equal([MasterStopping, ChildStartAbandoned, ListenersClosedForStop, MasterStopped], h.Logged);
        Assert.Equal([Stopping], h.Sent);
        Assert.False(await h.Machine.FirstGeneration, "the first generation never served");
        Assert.True(h.Machine.Stopped.IsCompleted);
        Assert.True(h.Child(1).Disposed);
    }

    [LinuxFact]
    public async Task Starting_ChildReady_ServesReadySent()
    {
        using var h = new Harness().ToStarting();

        h.Child(1).BecomeReady();
        h.Run();

        Assert.Equal([ChildReadyId], h.Logged);
        Assert.Equal([Ready(1)], h.Sent);
        Assert.Equal(SupervisorState.Serving, h.Machine.State);
        Assert.True(await h.Machine.FirstGeneration);
        Assert.Equal(1, h.Generation);
        Assert.Equal(0, h.Count("restarts"));
    }

    [LinuxFact]
    public async Task Starting_ChildExited_FirstGenerationFailsNamingTheExitNoSecondStart()
    {
        using var h = new Harness().ToStarting();

        h.Child(1).Exit(1);
        h.Run();

        Assert.Equal([ChildFailedToStart], h.Logged);
        Assert.Equal("Child generation 1 (pid 1001) failed to start: it exited before it was ready (exit code 1); it is killed", h.Records[0].Message);
        Assert.Empty(h.Sent);
        Assert.Empty(h.Alive);
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => h.Machine.FirstGeneration);
        Assert.Contains("The first generation of the app did not become ready; the master stops. The reason: it exited before it was ready (exit code 1).", failure.Message, StringComparison.Ordinal);
        Assert.Equal(0, h.Count("rollbacks"));
    }

    [LinuxFact]
    public async Task Starting_StartTimedOut_KilledThenFailsOnceReapedOnTheFakeClock()
    {
        using var h = new Harness().ToStarting();

        h.Advance(StartTimeout - Tick);
        Assert.Empty(h.Logged);

        h.Advance(Tick);
        Assert.Equal([ChildFailedToStart], h.Logged);
        Assert.Contains("it was not ready within GracefulRestart:StartTimeout (00:01:00)", h.Records[0].Message, StringComparison.Ordinal);
        Assert.Equal(["SIGKILL"], h.Child(1).Signals);
        Assert.False(h.Machine.FirstGeneration.IsCompleted, "the failure counts once the child is reaped");

        h.Child(1).Exit(137);
        h.Run();
        await Assert.ThrowsAsync<InvalidOperationException>(() => h.Machine.FirstGeneration);
        Assert.True(h.Child(1).Disposed);
    }

    [LinuxFact]
    public async Task Starting_LaunchThrows_CannotStartLoggedFirstGenerationFails()
    {
        using var h = new Harness();
        h.Launcher.Failure = new System.ComponentModel.Win32Exception(2, "No such file");

        h.Machine.Begin();
        h.Run();

        Assert.Equal([ChildStartFailed], h.Logged);
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => h.Machine.FirstGeneration);
        Assert.Contains("The reason: No such file.", failure.Message, StringComparison.Ordinal);
    }

    [LinuxFact]
    public void Starting_StartFailedThenStopRequested_StopsWithNoChild()
    {
        using var h = new Harness().ToStarting();
        h.Child(1).Exit(1);
        h.Run();
        h.Mark();

        h.Send(new StopRequested());

        Assert.Equal([MasterStopping, ListenersClosedForStop, MasterStopped], h.Logged);
        Assert.Equal([Stopping], h.Sent);
        Assert.Equal(SupervisorState.Stopped, h.Machine.State);
    }

    [LinuxFact]
    public void Starting_ChildStoppedAccepting_Ignored()
    {
        using var h = new Harness().ToStarting();

        h.Child(1).StopAccepting();
        h.Run();

        Assert.Empty(h.Logged);
        Assert.Empty(h.Sent);
        Assert.Equal(SupervisorState.Starting, h.Machine.State);
    }

    [LinuxFact]
    public void Starting_ExitTimedOut_IgnoredNothingKilled()
    {
        using var h = new Harness().ToStarting();

        h.Send(new ExitTimedOut(1));

        Assert.Empty(h.Logged);
        Assert.Empty(h.Child(1).Signals);
    }

    [LinuxFact]
    public void Starting_BackoffElapsed_IgnoredNoSecondStart()
    {
        using var h = new Harness().ToStarting();

        h.Send(new BackoffElapsed(0));
        h.Send(new BackoffElapsed(1));

        Assert.Empty(h.Logged);
        Assert.Equal([1], h.Alive);
    }

    // ---- Serving: generation 1 serves ----

    [LinuxFact]
    public void Serving_RestartRequested_ReloadingSentNextGenerationStarts()
    {
        using var h = new Harness().ToServing();

        h.Send(new RestartRequested("SIGHUP"));

        Assert.Equal([RestartRequestedId, ChildStarted], h.Logged);
        Assert.Equal([Reloading()], h.Sent);
        Assert.Equal([1, 2], h.Alive);
        Assert.Empty(h.Child(1).Signals);
        Assert.Equal(SupervisorState.Restarting, h.Machine.State);
    }

    [LinuxFact]
    public void Serving_ReloadFromControlSocket_SourceNamedInLogAndStatus()
    {
        using var h = new Harness().ToServing();

        h.Send(new RestartRequested("the control socket", Waiter()));

        Assert.Equal("Restart requested (the control socket)", h.Records[0].Message);
        Assert.Equal([Reloading("the control socket")], h.Sent);
    }

    [LinuxFact]
    public void Serving_StopRequested_SigtermWithoutRestartAnnounceListenersClosedOnceItStopsAccepting()
    {
        using var h = new Harness().ToServing();

        h.Send(new StopRequested());

        Assert.Equal([MasterStopping, ChildStopping], h.Logged);
        Assert.Equal([Stopping], h.Sent);
        Assert.Equal(["SIGTERM"], h.Child(1).Signals);

        h.Child(1).StopAccepting();
        h.Run();
        Assert.Equal([MasterStopping, ChildStopping, ListenersClosedForStop], h.Logged);
        Assert.False(h.Machine.Stopped.IsCompleted);

        h.Child(1).Exit(0);
        h.Run();
        Assert.Equal([MasterStopping, ChildStopping, ListenersClosedForStop, ChildExitedId, MasterStopped], h.Logged);
        Assert.Equal([Stopping], h.Sent);
        Assert.True(h.Machine.Stopped.IsCompleted);
    }

    [LinuxFact]
    public void Serving_ChildReadyAgain_Ignored()
    {
        using var h = new Harness().ToServing();

        h.Send(new ChildReady(1));

        Assert.Empty(h.Logged);
        Assert.Empty(h.Sent);
    }

    [LinuxFact]
    public void Serving_ChildExited_CrashLoggedCountedReplacedAtOnce()
    {
        using var h = new Harness().ToServing();

        h.Child(1).Exit(139);
        h.Run();

        Assert.Equal([ChildCrashed, ChildStarted], h.Logged);
        Assert.Equal("Serving child generation 1 (pid 1001) exited unexpectedly: signal 11 (exit code 139)", h.Records[0].Message);
        Assert.Equal(["STATUS=Generation 1 (pid 1001) crashed (signal 11 (exit code 139)); replacing it"], h.Sent);
        Assert.Equal(1, h.Count("child_crashes"));
        Assert.Equal([2], h.Alive);
        Assert.Equal(SupervisorState.Backoff, h.Machine.State);

        h.Child(2).BecomeReady();
        h.Run();
        Assert.Equal(["STATUS=Generation 1 (pid 1001) crashed (signal 11 (exit code 139)); replacing it", "STATUS=Generation 2 (pid 1002) serving"], h.Sent);
        Assert.Equal(SupervisorState.Serving, h.Machine.State);
        Assert.Equal(2, h.Generation);
    }

    [LinuxFact]
    public void Serving_StartTimedOut_Ignored()
    {
        using var h = new Harness().ToServing();

        h.Advance(StartTimeout);
        h.Send(new StartTimedOut(1));

        Assert.Empty(h.Logged);
        Assert.Empty(h.Child(1).Signals);
    }

    [LinuxFact]
    public void Serving_ExitTimedOut_IgnoredNotKilled()
    {
        using var h = new Harness().ToServing();

        h.Send(new ExitTimedOut(1));

        Assert.Empty(h.Logged);
        Assert.Empty(h.Child(1).Signals);
    }

    [LinuxFact]
    public void Serving_BackoffElapsed_IgnoredNoStart()
    {
        using var h = new Harness().ToServing();

        h.Send(new BackoffElapsed(1));

        Assert.Empty(h.Logged);
        Assert.Equal([1], h.Alive);
    }

    [LinuxFact]
    public void Serving_ChildStoppedAccepting_IgnoredListenersStay()
    {
        using var h = new Harness().ToServing();

        h.Child(1).StopAccepting();
        h.Run();

        Assert.Empty(h.Logged);
        Assert.Equal(SupervisorState.Serving, h.Machine.State);
    }

    [LinuxFact]
    public void Serving_Status_MasterAndServingGeneration()
    {
        using var h = new Harness().ToServing();

        var lines = h.Machine.Status();

        Assert.Equal($"master pid={Environment.ProcessId} strategy=StartFirst stopping=false", lines[0]);
        Assert.Matches(@"^generation 1 pid=1001 started=\S+Z state=serving$", lines[1]);
        Assert.Equal(2, lines.Count);
    }

    // ---- Restarting: generation 1 serves, generation 2 starts ----

    [LinuxFact]
    public void Restarting_RestartRequested_ReloadingAgainOneMoreRestartAfterTheDrain()
    {
        using var h = new Harness().ToRestarting();

        h.Send(new RestartRequested("SIGHUP"));

        Assert.Equal([RestartRequestedId], h.Logged);
        Assert.Equal([Reloading()], h.Sent);
        Assert.Equal([1, 2], h.Alive);

        h.Child(2).BecomeReady();
        h.Run();
        // At most two generations: the next restart waits for generation 1 to drain.
        Assert.Equal([1, 2], h.Alive);
        Assert.Equal(SupervisorState.Restarting, h.Machine.State);

        h.Child(1).Exit(0);
        h.Run();
        Assert.Equal([2, 3], h.Alive);
    }

    [LinuxFact]
    public void Restarting_TwoMoreRequests_SecondCoalescedNoSecondReloading()
    {
        using var h = new Harness().ToRestarting();

        h.Send(new RestartRequested("SIGHUP"));
        h.Send(new RestartRequested("SIGHUP"));

        Assert.Equal([RestartRequestedId, RestartCoalesced], h.Logged);
        Assert.Equal([Reloading()], h.Sent);
    }

    [LinuxFact]
    public async Task Restarting_StopRequested_StartingKilledAsInfoServingStoppedNoReadyAfterStopping()
    {
        var waiter = Waiter();
        using var h = new Harness().ToRestarting(waiter);

        h.Send(new StopRequested());

        Assert.Equal([MasterStopping, ChildStartAbandoned, ChildStopping], h.Logged);
        Assert.Equal(["SIGKILL"], h.Child(2).Signals);
        Assert.Equal(["SIGTERM"], h.Child(1).Signals);
        Assert.Same(RestartOutcome.Stopping, await waiter.Task);

        h.Child(2).BecomeReady();
        h.Child(2).Exit(137);
        h.Child(1).Exit(0);
        h.Run();

        Assert.DoesNotContain(ChildFailedToStart, h.Logged);
        Assert.DoesNotContain(RolledBack, h.Logged);
        Assert.DoesNotContain(ChildReadyId, h.Logged);
        Assert.Equal([Stopping], h.Sent);
        Assert.Empty(h.Alive);
        Assert.Equal(SupervisorState.Stopped, h.Machine.State);
        Assert.Equal(0, h.Count("rollbacks"));
    }

    [LinuxFact]
    public async Task Restarting_ChildReady_OldAnnouncedThenTerminatedRestartCompletedReadySent()
    {
        var waiter = Waiter();
        using var h = new Harness().ToRestarting(waiter);
        h.Time.Advance(TimeSpan.FromMilliseconds(250));

        h.Child(2).BecomeReady();
        h.Run();

        Assert.Equal([ChildReadyId, ChildStopping, RestartCompleted], h.Logged);
        Assert.Equal("Restart complete: generation 2 (pid 1002) serves after 250 ms", h.Records[2].Message);
        Assert.Equal(["RESTART", "SIGTERM"], h.Child(1).Signals);
        Assert.Equal([Ready(2)], h.Sent);
        Assert.Equal(1, h.Count("restarts"));
        Assert.Equal(2, h.Generation);
        Assert.Equal(new RestartOutcome(true, "generation 2 (pid 1002) serves after 250 ms"), await waiter.Task);
        Assert.Equal(SupervisorState.Serving, h.Machine.State);
        Assert.Matches(@"^last-restart at=\S+Z result=completed generation 2 \(pid 1002\) serves after 250 ms$", h.Machine.Status()[^1]);

        h.Child(1).Exit(0);
        h.Run();
        Assert.True(h.Child(1).Disposed);
        Assert.Equal([2], h.Alive);
    }

    [LinuxFact]
    public async Task Restarting_ChildExited_RolledBackCountedReloadFailedSentOldKeepsServing()
    {
        var waiter = Waiter();
        using var h = new Harness().ToRestarting(waiter);

        h.Child(2).Exit(1);
        h.Run();

        Assert.Equal([ChildFailedToStart, RolledBack], h.Logged);
        Assert.Equal("Restart rolled back: generation 1 (pid 1001) keeps serving; the new generation failed: it exited before it was ready (exit code 1)", h.Records[1].Message);
        string message = "generation 2 it exited before it was ready (exit code 1); rolled back, Generation 1 (pid 1001) serving";
        Assert.Equal(["READY=1\nSTATUS=Reload failed: " + message], h.Sent);
        Assert.Equal(new RestartOutcome(false, message), await waiter.Task);
        Assert.Equal(1, h.Count("rollbacks"));
        Assert.Empty(h.Child(1).Signals);
        Assert.Equal([1], h.Alive);
        Assert.Equal(SupervisorState.Serving, h.Machine.State);
    }

    [LinuxFact]
    public void Restarting_ChildExitedAfterARefusedSocket_RefusalInTheReason()
    {
        using var h = new Harness().ToRestarting();
        h.Child(2).LastRefusal = "Address 127.0.0.1:80: permission denied.";

        h.Child(2).Exit(1);
        h.Run();

        Assert.EndsWith("it exited before it was ready (exit code 1); the master could not give it a socket: Address 127.0.0.1:80: permission denied; it is killed",
            h.Records[0].Message, StringComparison.Ordinal);
    }

    /// <remarks>Historical bug: the serving child's crash during a restart was taken for a crash to replace, so a third generation started.</remarks>
    [LinuxFact]
    public void Restarting_ServingChildCrashes_TheRestartUnderWayReplacesItNoThirdStart()
    {
        using var h = new Harness().ToRestarting();

        h.Child(1).Exit(137);
        h.Run();

        Assert.Empty(h.Logged);
        Assert.Equal(SupervisorState.Restarting, h.Machine.State);

        h.Child(2).BecomeReady();
        h.Run();

        Assert.Equal([ChildReadyId, ChildExitedId, RestartCompleted], h.Logged);
        Assert.Equal("Child generation 1 (pid 1001) exited: signal 9 (exit code 137)", h.Records[1].Message);
        Assert.Empty(h.Child(1).Signals);
        Assert.Equal([Ready(2)], h.Sent);
        Assert.Equal([2], h.Alive);
        Assert.Equal(0, h.Count("child_crashes"));
        Assert.Equal(SupervisorState.Serving, h.Machine.State);
    }

    [LinuxFact]
    public void Restarting_ServingChildCrashesAndTheNextFails_RolledBackThenTheCrashIsReplaced()
    {
        using var h = new Harness().ToRestarting();

        h.Child(1).Exit(137);
        h.Child(2).Exit(1);
        h.Run();

        Assert.Equal([ChildFailedToStart, RolledBack, ChildCrashed, ChildStarted], h.Logged);
        Assert.Equal(1, h.Count("child_crashes"));
        Assert.Equal([3], h.Alive);
        Assert.Equal(SupervisorState.Backoff, h.Machine.State);
    }

    [LinuxFact]
    public async Task Restarting_StartTimedOut_KilledRolledBackOnceReaped()
    {
        var waiter = Waiter();
        using var h = new Harness().ToRestarting(waiter);

        h.Advance(StartTimeout);

        Assert.Equal([ChildFailedToStart], h.Logged);
        Assert.Equal(["SIGKILL"], h.Child(2).Signals);
        Assert.Empty(h.Sent);
        Assert.False(waiter.Task.IsCompleted);

        h.Child(2).Exit(137);
        h.Run();

        Assert.Equal([ChildFailedToStart, RolledBack], h.Logged);
        Assert.Single(h.Sent, m => m.StartsWith("READY=1\nSTATUS=Reload failed: generation 2 it was not ready within GracefulRestart:StartTimeout (00:01:00); rolled back", StringComparison.Ordinal));
        Assert.False((await waiter.Task).Succeeded);
        Assert.True(h.Child(2).Disposed);
    }

    [LinuxFact]
    public void Restarting_LaunchThrows_CannotStartLoggedRolledBack()
    {
        using var h = new Harness().ToServing();
        h.Launcher.Failure = new IOException("Too many open files");

        h.Send(new RestartRequested("SIGHUP"));

        Assert.Equal([RestartRequestedId, ChildStartFailed, RolledBack], h.Logged);
        Assert.Equal([Reloading(), "READY=1\nSTATUS=Reload failed: generation 2 Too many open files; rolled back, Generation 1 (pid 1001) serving"], h.Sent);
        Assert.Equal(SupervisorState.Serving, h.Machine.State);
    }

    [LinuxFact]
    public void Restarting_ExitTimedOutOfTheServingChild_IgnoredNotKilled()
    {
        using var h = new Harness().ToRestarting();

        h.Send(new ExitTimedOut(1));
        h.Send(new ExitTimedOut(2));

        Assert.Empty(h.Logged);
        Assert.Empty(h.Child(1).Signals);
        Assert.Empty(h.Child(2).Signals);
    }

    [LinuxFact]
    public void Restarting_BackoffElapsed_IgnoredNoThirdStart()
    {
        using var h = new Harness().ToRestarting();

        h.Send(new BackoffElapsed(1));

        Assert.Empty(h.Logged);
        Assert.Equal([1, 2], h.Alive);
    }

    [LinuxFact]
    public void Restarting_ChildStoppedAccepting_Ignored()
    {
        using var h = new Harness().ToRestarting();

        h.Child(1).StopAccepting();
        h.Run();

        Assert.Empty(h.Logged);
        Assert.Equal(SupervisorState.Restarting, h.Machine.State);
    }

    [LinuxFact]
    public void Restarting_Status_ServingAndStarting()
    {
        using var h = new Harness().ToRestarting();

        var lines = h.Machine.Status();

        Assert.Matches("state=serving$", lines[1]);
        Assert.Matches("^generation 2 pid=1002 .*state=starting$", lines[2]);
    }

    [LinuxFact]
    public void Restarting_OldGenerationOutlivesItsOwnExitTimeout_Killed()
    {
        using var h = new Harness().ToRestarting();
        h.Child(1).ExitTimeout = TimeSpan.FromSeconds(5);
        h.Child(2).BecomeReady();
        h.Run();
        h.Mark();

        h.Advance(TimeSpan.FromSeconds(5) - Tick);
        Assert.Empty(h.Logged);
        h.Advance(Tick);

        Assert.Equal([ChildKilled], h.Logged);
        Assert.Equal("Child generation 1 (pid 1001) outlived GracefulRestart:ExitTimeout (00:00:05); sending SIGKILL", h.Records[0].Message);
        Assert.Equal(["RESTART", "SIGTERM", "SIGKILL"], h.Child(1).Signals);
    }

    // ---- StopFirst: the serving generation exits before the next starts ----

    [LinuxFact]
    public void StopFirst_RestartRequested_OldAnnouncedAndStoppedNextStartsOnlyOnceItExited()
    {
        using var h = new Harness(o => o.Strategy = RestartStrategy.StopFirst).ToServing();

        h.Send(new RestartRequested("SIGHUP"));

        Assert.Equal([RestartRequestedId, ChildStopping], h.Logged);
        Assert.Equal(["RESTART", "SIGTERM"], h.Child(1).Signals);
        Assert.Equal([1], h.Alive);

        h.Child(1).Exit(0);
        h.Run();
        Assert.Equal([RestartRequestedId, ChildStopping, ChildExitedId, ChildStarted], h.Logged);

        h.Child(2).BecomeReady();
        h.Run();
        Assert.Equal(RestartCompleted, h.Logged[^1]);
        Assert.Equal([Reloading(), Ready(2)], h.Sent);
        Assert.Equal([2], h.Alive);
    }

    [LinuxFact]
    public async Task StopFirst_NextFails_ReloadFailedNoRollbackCountedRetriedWithBackoff()
    {
        var waiter = Waiter();
        using var h = new Harness(o => o.Strategy = RestartStrategy.StopFirst).ToServing();
        h.Send(new RestartRequested("the control socket", waiter));
        h.Child(1).Exit(0);
        h.Run();
        h.Mark();

        h.Child(2).Exit(1);
        h.Run();

        Assert.Equal([ChildFailedToStart, ChildStarted], h.Logged);
        string message = "generation 2 it exited before it was ready (exit code 1); no generation serves, retrying";
        Assert.Equal(["READY=1\nSTATUS=Reload failed: " + message], h.Sent);
        Assert.Equal(new RestartOutcome(false, message), await waiter.Task);
        Assert.Equal(0, h.Count("rollbacks"));
        Assert.Equal(SupervisorState.Backoff, h.Machine.State);
    }

    // ---- Backoff: nothing serves; generation 3 waits for the crash backoff ----

    [LinuxFact]
    public void Backoff_Enter_SecondCrashInARowWaitsCrashRestartDelay()
    {
        using var h = new Harness().ToServing();
        h.Child(1).Exit(139);
        h.Run();
        h.Child(2).BecomeReady();
        h.Run();
        h.Mark();

        h.Child(2).Exit(139);
        h.Run();

        Assert.Equal([ChildCrashed, CrashBackoff], h.Logged);
        Assert.Equal("Waiting 1000 ms before replacing the child (crash 2 in a row)", h.Records[1].Message);
        Assert.Empty(h.Alive);
        Assert.Equal(SupervisorState.Backoff, h.Machine.State);
        Assert.Equal(2, h.Count("child_crashes"));
    }

    /// <remarks>Historical bug: a reload during a crash backoff sent nothing until the replacement, or never READY=1.</remarks>
    [LinuxFact]
    public async Task Backoff_RestartRequested_ReloadingAtOnceReadyOnceTheReplacementServesNoSecondStart()
    {
        var waiter = Waiter();
        using var h = new Harness().ToBackoff();

        h.Send(new RestartRequested("the control socket", waiter));

        Assert.Equal([RestartRequestedId], h.Logged);
        Assert.Equal([Reloading("the control socket")], h.Sent);
        Assert.Empty(h.Alive);

        h.Advance(h.Options.CrashRestartDelay);
        h.Child(3).BecomeReady();
        h.Run();

        Assert.Equal([Reloading("the control socket"), Ready(3)], h.Sent);
        Assert.Equal(new RestartOutcome(true, "generation 3 (pid 1003) serves, replacing one that crashed"), await waiter.Task);
        Assert.Equal([3], h.Alive);
        Assert.Equal(SupervisorState.Serving, h.Machine.State);
    }

    [LinuxFact]
    public async Task Backoff_RestartRequestedAndTheReplacementFails_ReloadFailedSentBackoffDoubles()
    {
        var waiter = Waiter();
        using var h = new Harness().ToBackoff();
        h.Send(new RestartRequested("the control socket", waiter));
        h.Advance(h.Options.CrashRestartDelay);
        h.Mark();

        h.Child(3).Exit(1);
        h.Run();

        Assert.Equal([ChildFailedToStart, CrashBackoff], h.Logged);
        Assert.Equal("Waiting 2000 ms before replacing the child (crash 3 in a row)", h.Records[1].Message);
        Assert.Equal(["READY=1\nSTATUS=Reload failed: generation 3 it exited before it was ready (exit code 1); no generation serves, retrying"], h.Sent);
        Assert.False((await waiter.Task).Succeeded);
    }

    [LinuxFact]
    public void Backoff_StopRequested_StopsAtOnceNothingStartedLater()
    {
        using var h = new Harness().ToBackoff();

        h.Send(new StopRequested());
        h.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal([MasterStopping, ListenersClosedForStop, MasterStopped], h.Logged);
        Assert.Equal([Stopping], h.Sent);
        Assert.Empty(h.Alive);
        Assert.Equal(2, h.Launcher.Children.Count);
        Assert.Equal(SupervisorState.Stopped, h.Machine.State);
    }

    [LinuxFact]
    public void Backoff_StopRequestedWhileTheReplacementStarts_ReplacementKilledAsInfo()
    {
        using var h = new Harness().ToBackoff();
        h.Advance(h.Options.CrashRestartDelay);
        h.Mark();

        h.Send(new StopRequested());
        h.Child(3).Exit(137);
        h.Run();

        Assert.Equal([MasterStopping, ChildStartAbandoned, ListenersClosedForStop, MasterStopped], h.Logged);
        Assert.Equal([Stopping], h.Sent);
    }

    [LinuxFact]
    public void Backoff_StaleChildReady_Ignored()
    {
        using var h = new Harness().ToBackoff();

        h.Send(new ChildReady(2));

        Assert.Empty(h.Logged);
        Assert.Empty(h.Sent);
        Assert.Equal(SupervisorState.Backoff, h.Machine.State);
    }

    [LinuxFact]
    public void Backoff_StaleChildExited_IgnoredNotACrash()
    {
        using var h = new Harness().ToBackoff();

        h.Send(new ChildExited(2, 139));

        Assert.Empty(h.Logged);
        Assert.Equal(2, h.Count("child_crashes"));
    }

    [LinuxFact]
    public void Backoff_StartTimedOut_Ignored()
    {
        using var h = new Harness().ToBackoff();

        h.Send(new StartTimedOut(2));

        Assert.Empty(h.Logged);
    }

    [LinuxFact]
    public void Backoff_ExitTimedOut_Ignored()
    {
        using var h = new Harness().ToBackoff();

        h.Send(new ExitTimedOut(2));

        Assert.Empty(h.Logged);
    }

    [LinuxFact]
    public void Backoff_BackoffElapsed_ReplacementStartsAndServesWithStatusNotReady()
    {
        using var h = new Harness().ToBackoff();

        h.Advance(h.Options.CrashRestartDelay - Tick);
        Assert.Empty(h.Logged);
        h.Advance(Tick);
        Assert.Equal([ChildStarted], h.Logged);

        h.Child(3).BecomeReady();
        h.Run();

        Assert.Equal(["STATUS=Generation 3 (pid 1003) serving"], h.Sent);
        Assert.Equal(SupervisorState.Serving, h.Machine.State);
        Assert.Equal(3, h.Generation);
    }

    [LinuxFact]
    public void Backoff_StaleBackoffElapsed_IgnoredNoEarlyStart()
    {
        using var h = new Harness().ToBackoff();

        h.Send(new BackoffElapsed(1));

        Assert.Empty(h.Logged);
        Assert.Empty(h.Alive);
    }

    [LinuxFact]
    public void Backoff_ChildStoppedAccepting_Ignored()
    {
        using var h = new Harness().ToBackoff();

        h.Send(new ChildStoppedAccepting(2));

        Assert.Empty(h.Logged);
        Assert.Equal(SupervisorState.Backoff, h.Machine.State);
    }

    [LinuxFact]
    public void Backoff_LongServedBeforeTheCrash_CountStartsAgainNoWait()
    {
        using var h = new Harness().ToServing();
        h.Child(1).Exit(139);
        h.Run();
        h.Child(2).BecomeReady();
        h.Run();
        h.Time.Advance(h.Options.CrashRestartMaxDelay);
        h.Mark();

        h.Child(2).Exit(139);
        h.Run();

        Assert.Equal([ChildCrashed, ChildStarted], h.Logged);
    }

    // ---- Stopping: generation 1 drains after SIGTERM ----

    /// <remarks>Historical bug: SIGHUP during the stop ended the master with exit code 129.</remarks>
    [LinuxFact]
    public async Task Stopping_RestartRequested_IgnoredLoggedNothingSentReloadHearsStopping()
    {
        var waiter = Waiter();
        using var h = new Harness().ToStopping();

        h.Send(new RestartRequested("SIGHUP"));
        h.Send(new RestartRequested("the control socket", waiter));

        Assert.Equal([RestartIgnoredWhileStopping, RestartIgnoredWhileStopping], h.Logged);
        Assert.Equal("Restart requested (SIGHUP) while the master stops; ignored", h.Records[0].Message);
        Assert.Empty(h.Sent);
        Assert.Equal([1], h.Alive);
        Assert.False(waiter.Task.IsCompleted);

        h.Child(1).Exit(0);
        h.Run();
        Assert.Same(RestartOutcome.Stopping, await waiter.Task);
        Assert.Equal(SupervisorState.Stopped, h.Machine.State);
    }

    [LinuxFact]
    public void Stopping_StopRequestedAgain_IgnoredNoSecondStopping()
    {
        using var h = new Harness().ToStopping();

        h.Send(new StopRequested());

        Assert.Empty(h.Logged);
        Assert.Empty(h.Sent);
        Assert.Equal(["SIGTERM"], h.Child(1).Signals);
    }

    /// <remarks>Historical bug: a restart that ended during the stop sent READY=1 after STOPPING=1.</remarks>
    [LinuxFact]
    public void Stopping_ChildReady_IgnoredNoReadyAfterStopping()
    {
        using var h = new Harness().ToRestarting();
        h.Send(new StopRequested());
        h.Mark();

        h.Child(2).BecomeReady();
        h.Run();

        Assert.Empty(h.Logged);
        Assert.Empty(h.Sent);
        Assert.Equal(SupervisorState.Stopping, h.Machine.State);
    }

    [LinuxFact]
    public void Stopping_ChildExited_LoggedThenStopped()
    {
        using var h = new Harness().ToStopping();

        h.Child(1).Exit(0);
        h.Run();

        Assert.Equal([ListenersClosedForStop, ChildExitedId, MasterStopped], h.Logged);
        Assert.Empty(h.Sent);
        Assert.True(h.Machine.Stopped.IsCompleted);
        Assert.True(h.Child(1).Disposed);
        Assert.Equal(0, h.Count("child_crashes"));
    }

    [LinuxFact]
    public void Stopping_ChildStoppedAccepting_ListenersClosedBeforeItExits()
    {
        using var h = new Harness().ToStopping();

        h.Child(1).StopAccepting();
        h.Run();

        Assert.Equal([ListenersClosedForStop], h.Logged);
        Assert.Equal("No child accepts any more: closed the 0 listening sockets, so new connections are refused instead of queued", h.Records[0].Message);
        Assert.False(h.Machine.Stopped.IsCompleted);
    }

    [LinuxFact]
    public void Stopping_StartTimedOut_Ignored()
    {
        using var h = new Harness().ToStopping();

        h.Send(new StartTimedOut(1));

        Assert.Empty(h.Logged);
        Assert.Equal(["SIGTERM"], h.Child(1).Signals);
    }

    [LinuxFact]
    public void Stopping_ExitTimedOut_KilledAfterTheMastersExitTimeout()
    {
        using var h = new Harness().ToStopping();

        h.Advance(ExitTimeout - Tick);
        Assert.Empty(h.Logged);
        h.Advance(Tick);

        Assert.Equal([ChildKilled], h.Logged);
        Assert.Equal(LogLevel.Warning, h.Records[0].Level);
        Assert.Equal(["SIGTERM", "SIGKILL"], h.Child(1).Signals);
    }

    [LinuxFact]
    public void Stopping_BackoffElapsed_IgnoredNothingStarted()
    {
        using var h = new Harness().ToStopping();

        h.Send(new BackoffElapsed(1));

        Assert.Empty(h.Logged);
        Assert.Single(h.Launcher.Children);
    }

    [LinuxFact]
    public void Stopping_DuringTheDrainOfARestart_DrainingKeepsItsDeadlineNoSecondSigterm()
    {
        using var h = new Harness().ToRestarting();
        h.Child(2).BecomeReady();
        h.Run();
        h.Mark();

        h.Send(new StopRequested());

        Assert.Equal([MasterStopping, ChildStopping], h.Logged);
        Assert.Equal(["RESTART", "SIGTERM"], h.Child(1).Signals);
        Assert.Equal(["SIGTERM"], h.Child(2).Signals);
        Assert.Equal([1, 2], h.Alive);
        Assert.Matches("^generation 2 .*state=serving$", h.Machine.Status()[1]);
        Assert.Matches("^generation 1 .*state=draining$", h.Machine.Status()[2]);
        Assert.Equal("master pid=" + Environment.ProcessId + " strategy=StartFirst stopping=true", h.Machine.Status()[0]);

        h.Child(1).Exit(0);
        h.Child(2).Exit(0);
        h.Run();
        Assert.Equal(SupervisorState.Stopped, h.Machine.State);
        Assert.Equal(2, h.Logged.Count(id => id == ChildExitedId));
    }

    // ---- Stopped: every child has exited ----

    [LinuxFact]
    public async Task Stopped_RestartRequested_IgnoredReloadHearsStoppingAtOnce()
    {
        var waiter = Waiter();
        using var h = new Harness().ToStopped();

        h.Send(new RestartRequested("the control socket", waiter));

        Assert.Equal([RestartIgnoredWhileStopping], h.Logged);
        Assert.Empty(h.Sent);
        Assert.Same(RestartOutcome.Stopping, await waiter.Task);
    }

    [LinuxFact]
    public void Stopped_StopRequested_Ignored()
    {
        using var h = new Harness().ToStopped();

        h.Send(new StopRequested());

        Assert.Empty(h.Logged);
        Assert.Empty(h.Sent);
    }

    [LinuxFact]
    public void Stopped_ChildReady_Ignored()
    {
        using var h = new Harness().ToStopped();

        h.Send(new ChildReady(1));

        Assert.Empty(h.Logged);
        Assert.Empty(h.Sent);
    }

    [LinuxFact]
    public void Stopped_ChildExited_Ignored()
    {
        using var h = new Harness().ToStopped();

        h.Send(new ChildExited(1, 0));

        Assert.Empty(h.Logged);
        Assert.Equal(0, h.Count("child_crashes"));
    }

    [LinuxFact]
    public void Stopped_ChildStoppedAccepting_Ignored()
    {
        using var h = new Harness().ToStopped();

        h.Send(new ChildStoppedAccepting(1));

        Assert.Empty(h.Logged);
    }

    [LinuxFact]
    public void Stopped_StartTimedOut_Ignored()
    {
        using var h = new Harness().ToStopped();

        h.Send(new StartTimedOut(1));

        Assert.Empty(h.Logged);
    }

    [LinuxFact]
    public void Stopped_ExitTimedOut_IgnoredNothingKilled()
    {
        using var h = new Harness().ToStopped();

        h.Advance(ExitTimeout);
        h.Send(new ExitTimedOut(1));

        Assert.Empty(h.Logged);
        Assert.Equal(["SIGTERM"], h.Child(1).Signals);
    }

    [LinuxFact]
    public void Stopped_BackoffElapsed_IgnoredNothingStarted()
    {
        using var h = new Harness().ToStopped();

        h.Send(new BackoffElapsed(1));

        Assert.Empty(h.Logged);
        Assert.Single(h.Launcher.Children);
    }
}
