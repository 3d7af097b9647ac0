using System.Globalization;
using GracefulHosting.IntegrationTests.Infrastructure;

namespace GracefulHosting.IntegrationTests.RealApps;

/// <summary>Steps shared by the tests of the apps in <c>test/apps</c>.</summary>
internal static class RealAppScenario
{
    /// <summary>The pid of the master, from its own start-up line (it differs from the started pid under a launcher).</summary>
    public static async Task<int> MasterPidAsync(MasterProcess master)
    {
        var match = await master.WaitForLineAsync(@"Graceful restart master (\d+) starting");
        return int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Sends SIGHUP to <paramref name="masterPid"/> while two keep-alive clients request <c>/</c>, waits
    /// until <paramref name="generation"/> serves and the old one has exited, and returns the load's record.
    /// </summary>
    public static async Task<KeepAliveLoad> RestartUnderLoadAsync(MasterProcess master, int masterPid, Uri address, int generation)
    {
        var load = new KeepAliveLoad(address, clients: 2, keepBodies: true);
        try
        {
            await Faults.Faulty.WaitUntilAsync(() => load.Succeeded > 0, TimeSpan.FromSeconds(15), "the load's first answer",
                () => string.Join("; ", load.Failures));
            Native.Kill(masterPid, Native.SIGHUP);
            int pid = await master.WaitForRestartAsync(generation);
            await master.WaitForLineAsync($@"Child generation {generation - 1} \(pid \d+\) exited");
            await load.WaitForPidAsync(pid, TimeSpan.FromSeconds(15));
        }
        finally
        {
            await load.StopAsync();
        }

        return load;
    }

    /// <summary>The pids named by lines matching <paramref name="pattern"/>, whose first group is a pid.</summary>
    public static HashSet<int> PidsIn(MasterProcess master, string pattern) =>
        Faults.Faulty.Matches(master, pattern).Select(m => Faults.Faulty.Int(m.Match.Groups[1])).ToHashSet();
}
