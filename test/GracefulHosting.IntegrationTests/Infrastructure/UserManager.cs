using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace GracefulHosting.IntegrationTests.Infrastructure;

/// <summary>
/// A private systemd user manager (<c>systemd --user</c>) started by <c>systemd-user-manager.sh</c>
/// next to this file, with its runtime, configuration and state folders in a folder of its own under
/// /run. Everything it starts lives in its own cgroup; dispose stops it with
/// <c>systemctl --user exit</c>, kills whatever is still in that cgroup by pid, and removes the
/// cgroup and the folder.
/// </summary>
internal sealed partial class UserManager : IDisposable
{
    private const string SystemdBinary = "/lib/systemd/systemd";
    internal static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly Task<string> _stdout;
    private readonly Task<string> _stderr;

    private UserManager(string root, string cgroup, Process process)
    {
        Root = root;
        Cgroup = cgroup;
        _process = process;
        Pid = process.Id;
        // The launcher prints only when it fails; the manager logs to the console device, not here.
        _stdout = process.StandardOutput.ReadToEndAsync();
        _stderr = process.StandardError.ReadToEndAsync();
    }

    /// <summary>Why no manager can run here, or null if it can.</summary>
    public static string? MissingReason { get; } = FindMissingReason();

    /// <summary>The folder that holds everything of this manager (and nothing else).</summary>
    public string Root { get; }

    /// <summary>The manager's own cgroup (a path such as /graceful-systemd-…), directly below the test's; its units' cgroups are below it.</summary>
    public string Cgroup { get; }

    public int Pid { get; }

    public string RuntimeDirectory => Path.Combine(Root, "runtime");

    /// <summary>Where the manager loads user units from ($XDG_CONFIG_HOME/systemd/user).</summary>
    public string UnitDirectory => Path.Combine(Root, "config", "systemd", "user");

    /// <summary>Starts a manager and waits until <c>systemctl --user</c> reaches it and its start-up jobs are done.</summary>
    public static async Task<UserManager> StartAsync()
    {
        if (MissingReason is not null || !OperatingSystem.IsLinux())
        {
            throw new InvalidOperationException(MissingReason);
        }

        string id = Guid.NewGuid().ToString("N")[..12];
        string root = Path.Combine("/run", "graceful-systemd-" + id);
        // Not under /tmp: a unit with PrivateTmp=yes would not see the manager's notify socket there.
        Directory.CreateDirectory(Path.Combine(root, "runtime"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Directory.CreateDirectory(Path.Combine(root, "config", "systemd", "user"));

        var startInfo = new ProcessStartInfo("sh")
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add(Path.Combine(ExampleApp.RepositoryRoot, "test", "GracefulHosting.IntegrationTests", "Infrastructure", "systemd-user-manager.sh"));
        string name = "graceful-systemd-" + id;
        startInfo.ArgumentList.Add(name);
        // A manager passes its environment to every unit: give it a plain one, as a login would.
        startInfo.Environment.Clear();
        foreach (var (key, value) in ManagerEnvironment(root))
        {
            startInfo.Environment[key] = value;
        }

        // The script creates the manager's cgroup below the one it starts in, which is the test's.
        var manager = new UserManager(root, OwnCgroup().TrimEnd('/') + "/" + name, Process.Start(startInfo)!);
        try
        {
            await manager.WaitUntilRunningAsync();
            return manager;
        }
        catch
        {
            manager.Dispose();
            throw;
        }
    }

    /// <summary>Runs <c>systemctl --user</c> against this manager; returns its exit code and output.</summary>
    public Task<(int ExitCode, string Output)> SystemctlAsync(params string[] arguments) =>
        ToolProcess.RunAsync("systemctl", ["--user", .. arguments], Root, CommandTimeout, ManagerEnvironment(Root));

    /// <summary>Runs <c>systemctl --user</c> and throws, with its output, unless it exits 0.</summary>
    public async Task<string> SystemctlCheckedAsync(params string[] arguments)
    {
        var (exitCode, output) = await SystemctlAsync(arguments);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"systemctl --user {string.Join(' ', arguments)} exited with {exitCode}: {output}");
        }

        return output;
    }

    /// <summary>The given properties of a unit, from <c>systemctl --user show</c>.</summary>
    public async Task<UnitProperties> ShowAsync(string unit, params string[] properties)
    {
        string output = await SystemctlCheckedAsync(["show", unit, .. properties.Select(p => "--property=" + p)]);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                values[line[..eq]] = line[(eq + 1)..];
            }
        }

        return new UnitProperties(unit, values);
    }

    /// <summary>Polls <c>systemctl show</c> until <paramref name="condition"/> holds; returns the properties that satisfied it.</summary>
    public async Task<UnitProperties> WaitForAsync(string unit, string[] properties, Func<UnitProperties, bool> condition,
        TimeSpan timeout, string what)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var current = await ShowAsync(unit, properties);
            if (condition(current))
            {
                return current;
            }

            if (watch.Elapsed > timeout)
            {
                throw new TimeoutException($"{what}: not within {timeout}; last {current}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>
    /// The processes in a unit's cgroup (the <c>ControlGroup</c> property) and every cgroup below it;
    /// empty once the cgroup is gone.
    /// </summary>
    public static List<int> CgroupProcesses(string controlGroup)
    {
        var result = new List<int>();
        foreach (string hierarchy in TrackingHierarchies())
        {
            string directory = hierarchy + controlGroup;
            if (!Directory.Exists(directory))
            {
                continue;
            }

            try
            {
                foreach (string procs in Directory.EnumerateFiles(directory, "cgroup.procs", SearchOption.AllDirectories))
                {
                    result.AddRange(File.ReadAllLines(procs).Where(l => l.Length > 0).Select(l => int.Parse(l, CultureInfo.InvariantCulture)));
                }
            }
            catch (Exception e) when (e is DirectoryNotFoundException or FileNotFoundException)
            {
                // Removed while being read: nothing is left in it.
            }
        }

        return [.. result.Distinct()];
    }

    /// <summary>The version number systemctl reports (252 for "systemd 252 (252.38-1~deb12u1)"); 0 without systemd.</summary>
    public static int SystemdVersion => LazyVersion.Value;

    private static readonly Lazy<int> LazyVersion = new(() =>
    {
        try
        {
            var (_, output) = ToolProcess.RunAsync("systemctl", ["--version"], "/", CommandTimeout).GetAwaiter().GetResult();
            var match = VersionPattern().Match(output);
            return match.Success ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return 0; // no systemctl
        }
    });

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                // Stops every unit (each with its own stop timeout), then the manager itself.
                var exit = SystemctlAsync("exit").GetAwaiter().GetResult();
                if (exit.ExitCode != 0 || !_process.WaitForExit(TimeSpan.FromSeconds(60)))
                {
                    KillEverything();
                }
            }

            // Units that outlived their manager (none, unless it was killed) and the manager itself.
            KillEverything();
            RemoveCgroups();
        }
        finally
        {
            _process.Dispose();
            try
            {
                Directory.Delete(Root, recursive: true);
            }
            catch (DirectoryNotFoundException)
            {
            }
        }
    }

    /// <summary>Every process in the manager's cgroup, the manager included: SIGKILL, then wait until /proc shows them gone.</summary>
    private void KillEverything()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var left = CgroupProcesses(Cgroup);
            if (!_process.HasExited)
            {
                left.Add(Pid);
            }

            left = [.. left.Where(Native.IsAlive)];
            if (left.Count == 0)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"Processes of the systemd user manager {Pid} still alive after SIGKILL: {string.Join(", ", left)}");
            }

            foreach (int pid in left)
            {
                Native.Kill(pid, Native.SIGKILL);
            }

            Thread.Sleep(20);
        }
    }

    /// <summary>Removes the manager's cgroup and what it left below it (its init.scope), deepest first.</summary>
    private void RemoveCgroups()
    {
        foreach (string hierarchy in TrackingHierarchies())
        {
            string directory = hierarchy + Cgroup;
            if (!Directory.Exists(directory))
            {
                continue;
            }

            var all = Directory.GetDirectories(directory, "*", SearchOption.AllDirectories).Append(directory);
            foreach (string cgroup in all.OrderByDescending(d => d.Length))
            {
                // A cgroup's control files cannot be deleted; rmdir of the directory removes them with it.
                Directory.Delete(cgroup);
            }
        }
    }

    /// <summary>Where the manager's cgroups are: the cgroup2 root on a unified host, name=systemd and unified on a hybrid one.</summary>
    private static IEnumerable<string> TrackingHierarchies() => IsUnified
        ? ["/sys/fs/cgroup"]
        : new[] { "/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified" }.Where(Directory.Exists);

    private static bool IsUnified => File.Exists("/sys/fs/cgroup/cgroup.controllers");

    /// <summary>The test process's cgroup in the hierarchy systemd tracks units in (as the launcher script reads it).</summary>
    private static string OwnCgroup()
    {
        string prefix = IsUnified ? "0::" : ":name=systemd:";
        foreach (string line in File.ReadLines("/proc/self/cgroup"))
        {
            int at = line.IndexOf(prefix, StringComparison.Ordinal);
            if (IsUnified ? at == 0 : at > 0)
            {
                return line[(at + prefix.Length)..];
            }
        }

        throw new InvalidOperationException("/proc/self/cgroup names no " + prefix + " cgroup");
    }

    private async Task WaitUntilRunningAsync()
    {
        var watch = Stopwatch.StartNew();
        string last = "";
        while (watch.Elapsed < CommandTimeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The systemd user manager exited with {_process.ExitCode} at start. Output:\n{await _stdout}{await _stderr}");
            }

            if (File.Exists(Path.Combine(RuntimeDirectory, "systemd", "private")))
            {
                var (exitCode, output) = await SystemctlAsync("show", "--property=SystemState", "--value");
                last = output.Trim();
                if (exitCode == 0 && last is "running" or "degraded")
                {
                    return;
                }
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"The systemd user manager {Pid} did not finish starting within {CommandTimeout} (SystemState '{last}').");
    }

    /// <summary>The environment of the manager and of systemctl: XDG folders in <paramref name="root"/>, nothing from the test host.</summary>
    private static Dictionary<string, string?> ManagerEnvironment(string root) => new(StringComparer.Ordinal)
    {
        ["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        ["HOME"] = "/root",
        ["LANG"] = "C.UTF-8",
        ["XDG_RUNTIME_DIR"] = Path.Combine(root, "runtime"),
        ["XDG_CONFIG_HOME"] = Path.Combine(root, "config"),
        ["XDG_DATA_HOME"] = Path.Combine(root, "data"),
        ["XDG_STATE_HOME"] = Path.Combine(root, "state"),
        ["XDG_CACHE_HOME"] = Path.Combine(root, "cache"),
    };

    private static string? FindMissingReason()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "Linux only.";
        }

        if (!File.Exists(SystemdBinary))
        {
            return $"{SystemdBinary} is missing (Debian package systemd).";
        }

        if (!File.Exists("/usr/bin/unshare") && !File.Exists("/bin/unshare"))
        {
            return "unshare is missing (Debian package util-linux).";
        }

        // A private mount namespace, the tmpfs mounts in it and a cgroup of its own need root (CAP_SYS_ADMIN).
        return Faults.Proc.GetEffectiveUserId() == 0 ? null : "Not root: the private systemd user manager needs a mount namespace and a cgroup of its own.";
    }

    [GeneratedRegex(@"systemd (\d+)")]
    private static partial Regex VersionPattern();
}

/// <summary>Properties of a unit as <c>systemctl show</c> printed them.</summary>
internal sealed class UnitProperties(string unit, IReadOnlyDictionary<string, string> values)
{
    public string this[string name] => values.TryGetValue(name, out string? value) ? value : "";

    public int Int(string name) => int.Parse(this[name], CultureInfo.InvariantCulture);

    public override string ToString() => $"{unit}: " + string.Join(", ", values.Select(p => $"{p.Key}={p.Value}"));
}
