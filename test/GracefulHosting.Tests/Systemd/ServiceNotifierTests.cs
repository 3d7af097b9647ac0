using GracefulHosting.Systemd;
using Microsoft.Extensions.Hosting.Systemd;

namespace GracefulHosting.Tests.Systemd;

public sealed class ServiceNotifierTests
{
    /// <remarks>
    /// A restart that completes or rolls back while the master stops would otherwise tell systemd
    /// READY=1 after STOPPING=1, which makes a stopping service look as if it started again.
    /// </remarks>
    [Fact]
    public void Ready_AfterStopping_NotSentButStatusOfTheStopIs()
    {
        var sent = new RecordingNotifier();
        using var notifier = new ServiceNotifier(sent, TimeProvider.System);

        notifier.Stopping("Stopping every generation");
        notifier.Ready("Generation 2 (pid 42) serving");
        notifier.Reloading("Reloading: starting generation 3");
        notifier.Status("Generation 2 (pid 42) serving");

        Assert.Equal(["STOPPING=1\nSTATUS=Stopping every generation"], sent.Messages);
    }

    [Fact]
    public void Ready_BeforeStopping_Sent()
    {
        var sent = new RecordingNotifier();
        using var notifier = new ServiceNotifier(sent, TimeProvider.System);

        notifier.Ready("Generation 1 (pid 41) serving");
        notifier.Stopping("Stopping every generation");

        Assert.Equal(["READY=1\nSTATUS=Generation 1 (pid 41) serving", "STOPPING=1\nSTATUS=Stopping every generation"], sent.Messages);
    }

    private sealed class RecordingNotifier : ISystemdNotifier
    {
        public List<string> Messages { get; } = [];

        public bool IsEnabled => true;

        public void Notify(ServiceState state) => Messages.Add(state.ToString());
    }
}
