using System.Net;
using System.Net.Sockets;
using GracefulHosting.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace GracefulHosting.IntegrationTests.Faults;

/// <summary>
/// Settings that cannot work stop the master at once: a clear error that names the setting, a
/// non-zero exit code, and no process left. A bad endpoint is found by the first generation's own
/// Kestrel, which asks the master for the socket, so it fails that generation. These add to <see cref="StartupTests"/> (a port held by a plain
/// socket, StartTimeout, ExitTimeout, RestartSignal, Strategy, an ftp:// URL, port 99999).
/// </summary>
public sealed class BadStartupTests(ITestOutputHelper output)
{
    /// <remarks>
    /// A second server on the same port is the common way a port is "in use" in production: a second
    /// copy of the service, or another .NET server. Both set <c>SocketOptionName.ReuseAddress</c>, which
    /// on Linux .NET turns into SO_REUSEADDR and SO_REUSEPORT; if the master did the same, the kernel
    /// would let it share the port and split the connections between two unrelated services.
    /// </remarks>
    [Theory]
    [InlineData("another master of the app")]
    [InlineData("a .NET socket with ReuseAddress")]
    public async Task Master_PortHeldByAnotherServer_ExitsNonZeroNamingTheSettingAndLeavesNoChild(string holder)
    {
        int port;
        await using var first = holder == "another master of the app" ? MasterProcess.Start(output: output) : null;
        using var socket = first is null ? new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) : null;
        if (first is not null)
        {
            port = (await first.WaitForAddressAsync()).Port;
            await first.WaitForReadyAsync(1);
        }
        else
        {
            socket!.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            socket.Listen();
            port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        }

        await using var second = MasterProcess.Start(arguments: [$"--Kestrel:Endpoints:Http:Url=http://127.0.0.1:{port}"], defaultEndpoint: false, output: output);

        Assert.True(await second.WaitForExitAsync(TimeSpan.FromSeconds(15)), "the second master must not start");
        Assert.Equal(1, second.ExitCode);
        Assert.Contains($"Cannot listen on 127.0.0.1:{port} for Kestrel:Endpoints:Http:Url = 'http://127.0.0.1:{port}': the address is already in use by another process.",
            second.Output, StringComparison.Ordinal);
        second.AssertFirstGenerationFailed();
        Assert.True(first is null || !first.HasExited);
    }

    /// <remarks>
    /// As root the bind would succeed, so the master runs as nobody (setpriv drops every capability
    /// with the uid). Skipped only where that is impossible; see <see cref="UnprivilegedPortFactAttribute"/>.
    /// </remarks>
    [UnprivilegedPortFact]
    public async Task Master_PrivilegedPortAsNonRoot_ExitsNonZeroWithPermissionDenied()
    {
        IReadOnlyList<string>? launcher = Proc.GetEffectiveUserId() == 0
            ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
            : null;
        await using var master = MasterProcess.Start(arguments: ["--Kestrel:Endpoints:Http:Url=http://127.0.0.1:1"], defaultEndpoint: false, launcher: launcher, output: output);

        Assert.True(await master.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(1, master.ExitCode);
        Assert.Contains("Cannot listen on 127.0.0.1:1 for Kestrel:Endpoints:Http:Url = 'http://127.0.0.1:1': permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE).",
            master.Output, StringComparison.Ordinal);
        master.AssertFirstGenerationFailed();
    }

    /// <remarks>
    /// Kestrel decides what a URL means: the first generation's Kestrel rejects these with its own error,
    /// as in a plain run, and a bind the master makes for it fails naming the setting.
    /// </remarks>
    [Theory]
    [InlineData("127.0.0.1:8080", "Invalid url: '127.0.0.1:8080'")]
    [InlineData("http://192.0.2.1:0", "Cannot listen on 192.0.2.1:0 for Kestrel:Endpoints:Http:Url = 'http://192.0.2.1:0': the address does not belong to this machine.")]
    [InlineData("http://localhost:0", "Dynamic port binding is not supported when binding to localhost.")]
    public async Task Master_BadUrl_ExitsNonZeroNamingTheSetting(string url, string error)
    {
        await using var master = MasterProcess.Start(arguments: [$"--Kestrel:Endpoints:Http:Url={url}"], defaultEndpoint: false, output: output);

        Assert.True(await master.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(1, master.ExitCode);
        Assert.Contains(error, master.Output, StringComparison.Ordinal);
        master.AssertFirstGenerationFailed();
    }

    [Theory]
    [InlineData("DrainQuietPeriod=-00:00:01", "GracefulRestart:DrainQuietPeriod must be at least 00:00:00 and less than GracefulRestart:ExitTimeout (was '-00:00:01').")]
    [InlineData("DrainQuietPeriod=00:00:30", "GracefulRestart:DrainQuietPeriod must be at least 00:00:00 and less than GracefulRestart:ExitTimeout (was '00:00:30').")]
    [InlineData("CrashRestartDelay=-00:00:01", "GracefulRestart:CrashRestartDelay must be between 00:00:00 and 1.00:00:00 (was '-00:00:01').")]
    [InlineData("CrashRestartDelay=2.00:00:00", "GracefulRestart:CrashRestartDelay must be between 00:00:00 and 1.00:00:00 (was '2.00:00:00').")]
    [InlineData("CrashRestartMaxDelay=00:00:00.500", "GracefulRestart:CrashRestartMaxDelay must be at least GracefulRestart:CrashRestartDelay and at most 1.00:00:00 (was '00:00:00.5000000').")]
    [InlineData("Mode=Sideways", "Failed to convert configuration value 'Sideways' at 'GracefulRestart:Mode'")]
    [InlineData("StartTimeout=soon", "Failed to convert configuration value 'soon' at 'GracefulRestart:StartTimeout'")]
    [InlineData("Enabled=maybe", "Failed to convert configuration value 'maybe' at 'GracefulRestart:Enabled'")]
    public async Task Master_BadOptionValue_ExitsNonZeroNamingTheKey(string setting, string error)
    {
        await using var master = MasterProcess.Start(arguments: [$"--GracefulRestart:{setting}"], output: output);

        Assert.True(await master.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(1, master.ExitCode);
        Assert.Contains(error, master.Output, StringComparison.Ordinal);
        Assert.False(master.HasLine("Started child generation"));
        Assert.False(master.HasLine("Listening on"), "a bad option must stop the master before it binds anything");
    }
}

/// <summary>
/// A fact for "a port below 1024 is refused to an unprivileged process". It runs as the current
/// user if that is not root, and as root through <c>setpriv</c> as nobody. It is skipped when running
/// as root without setpriv (root itself may bind any port), or when the kernel lets every user bind
/// port 1 (<c>net.ipv4.ip_unprivileged_port_start</c> of 1 or less). build/test.sh fails a run with
/// the first kind of skip (setpriv belongs on the machine), not with the second.
/// </summary>
public sealed class UnprivilegedPortFactAttribute : FactAttribute
{
    public UnprivilegedPortFactAttribute()
    {
        const string sysctl = "/proc/sys/net/ipv4/ip_unprivileged_port_start";
        if (File.Exists(sysctl) && int.TryParse(File.ReadAllText(sysctl).Trim(), out int start) && start <= 1)
        {
            Skip = $"Missing kernel feature: privileged ports are switched off ({sysctl} is {start}), so every user may bind port 1 and there is no permission error to test.";
        }
        else if (Proc.GetEffectiveUserId() == 0 && !File.Exists("/usr/bin/setpriv") && !File.Exists("/bin/setpriv"))
        {
            Skip = "Running as root, which may bind any port, and setpriv (util-linux) is missing to run the master as nobody.";
        }
    }
}
