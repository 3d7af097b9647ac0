using GracefulHosting.IntegrationTests.Infrastructure;

namespace GracefulHosting.IntegrationTests.RealApps;

/// <summary>An app on Autofac, with UseGracefulRestart() before or after UseServiceProviderFactory().</summary>
public sealed class AutofacAppTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Sighup_AutofacInEitherOrder_MasterRestartsChildrenOnAutofacWithNoFailedRequest(bool gracefulFirst)
    {
        await using var master = MasterProcess.Start(app: "AutofacApp", arguments: [$"--GracefulFirst={gracefulFirst}"]);
        var address = await master.WaitForAddressAsync();
        int first = await master.WaitForReadyAsync(1);
        using var client = Http.CreateClient(address);
        string body = await client.GetStringAsync("/");

        await using var load = await RealAppScenario.RestartUnderLoadAsync(master, master.Pid, address, 2);
        int second = await Http.GetPidAsync(client);

        Assert.StartsWith("Hello from AutofacServiceProvider", body, StringComparison.Ordinal);
        Assert.Equal(first, Http.ParsePid(body));
        Assert.NotEqual(first, second);
        Assert.Empty(load.Failures);
        Assert.NotEmpty(load.Bodies);
        Assert.DoesNotContain(load.Bodies, b => Http.ParsePid(b) == master.Pid);
        // The app's BackgroundService runs in each generation and never in the master.
        await master.WaitForLineAsync($"Worker started in pid {second}");
        var workers = RealAppScenario.PidsIn(master, @"Worker started in pid (\d+)");
        Assert.Equal([first, second], workers.Order());
    }
}
