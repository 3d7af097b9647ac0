using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using GracefulHosting.IntegrationTests.Infrastructure;

namespace GracefulHosting.IntegrationTests.Faults;

/// <summary>What the fault tests read about processes: /proc fd tables, memory, unix sockets and log times.</summary>
internal static partial class Proc
{
    private const int O_CLOEXEC = 0x80000; // 02000000 in the octal "flags:" line of /proc/pid/fdinfo
    private const int SOL_SOCKET = 1;
    private const int SO_REUSEADDR = 2;

    /// <summary>
    /// fd → link target (<c>socket:[123]</c>, <c>pipe:[456]</c>, a path, <c>anon_inode:[eventfd]</c>);
    /// empty once the process is gone.
    /// </summary>
    public static SortedDictionary<int, string> Descriptors(int pid)
    {
        var result = new SortedDictionary<int, string>();
        string[] entries;
        try
        {
            // GetFileSystemEntries, not GetFiles: a descriptor of an open directory is a link to a directory.
            entries = Directory.GetFileSystemEntries($"/proc/{pid}/fd");
        }
        catch (DirectoryNotFoundException)
        {
            return result;
        }

        foreach (string entry in entries)
        {
            if (!int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out int fd))
            {
                continue;
            }

            try
            {
                if (new FileInfo(entry).LinkTarget is { } target)
                {
                    result[fd] = target;
                }
            }
            catch (IOException)
            {
                // Closed meanwhile.
            }
        }

        return result;
    }

    /// <summary>True if the descriptor has FD_CLOEXEC, read from the "flags:" line of /proc/pid/fdinfo/fd.</summary>
    public static bool IsCloseOnExec(int pid, int fd)
    {
        foreach (string line in File.ReadLines($"/proc/{pid}/fdinfo/{fd}"))
        {
            if (line.StartsWith("flags:", StringComparison.Ordinal))
            {
                return (Convert.ToInt32(line["flags:".Length..].Trim(), 8) & O_CLOEXEC) != 0;
            }
        }

        throw new InvalidOperationException($"/proc/{pid}/fdinfo/{fd} has no flags line");
    }

    /// <summary>The descriptors of <paramref name="pid"/> that an exec would pass on (no FD_CLOEXEC).</summary>
    public static SortedSet<int> InheritableDescriptors(int pid)
    {
        var result = new SortedSet<int>();
        foreach (int fd in Descriptors(pid).Keys)
        {
            try
            {
                if (!IsCloseOnExec(pid, fd))
                {
                    result.Add(fd);
                }
            }
            catch (IOException)
            {
            }
        }

        return result;
    }

    /// <summary>VmRSS of the process in KiB.</summary>
    public static long ResidentKiB(int pid)
    {
        foreach (string line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line["VmRSS:".Length..].Replace("kB", "", StringComparison.Ordinal).Trim(), CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"/proc/{pid}/status has no VmRSS");
    }

    /// <summary>The environment the process was started with (/proc/pid/environ).</summary>
    public static Dictionary<string, string> StartEnvironment(int pid)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string entry in File.ReadAllText($"/proc/{pid}/environ").Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = entry.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                result[entry[..eq]] = entry[(eq + 1)..];
            }
        }

        return result;
    }

    /// <summary>Direct children of <paramref name="pid"/> that are alive (not zombies).</summary>
    public static List<int> LiveChildren(int pid) =>
        [.. DirectChildren(pid).Where(Native.IsAlive)];

    /// <summary>Direct children of <paramref name="pid"/>, zombies included.</summary>
    public static List<int> DirectChildren(int pid)
    {
        var result = new List<int>();
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int candidate) &&
                Native.ParentPid(candidate) == pid)
            {
                result.Add(candidate);
            }
        }

        return result;
    }

    /// <summary>Descendants of <paramref name="pid"/> in state Z (exited, not reaped).</summary>
    public static List<int> ZombieDescendants(int pid) =>
        [.. Native.Descendants(pid).Where(p => Native.ProcState(p) == "Z")];

    /// <summary>The <c>socket:[inode]</c> inode of a link target, or null.</summary>
    public static string? SocketInode(string target) =>
        target.StartsWith("socket:[", StringComparison.Ordinal) ? target[8..^1] : null;

    /// <summary>Every AF_UNIX socket of the system from /proc/net/unix: inode → (type, bound name or "").</summary>
    public static Dictionary<string, (int Type, string Name)> UnixSockets()
    {
        var result = new Dictionary<string, (int, string)>(StringComparer.Ordinal);
        // Num RefCount Protocol Flags Type St Inode [Path]
        foreach (string line in File.ReadLines("/proc/net/unix").Skip(1))
        {
            var fields = line.Split(' ', 8, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 7)
            {
                result[fields[6]] = (int.Parse(fields[4], NumberStyles.HexNumber, CultureInfo.InvariantCulture), fields.Length > 7 ? fields[7] : "");
            }
        }

        return result;
    }

    /// <summary>True if no socket listens on <paramref name="port"/> of 127.0.0.1 and the test can bind and listen there itself.</summary>
    public static bool CanListenOn(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        // Plain SO_REUSEADDR: it ignores TIME_WAIT leftovers, never a listener. (SocketOptionName.ReuseAddress
        // would not do: on Linux .NET sets SO_REUSEPORT with it, which may share a port with a live listener.)
        socket.SetRawSocketOption(SOL_SOCKET, SO_REUSEADDR, BitConverter.GetBytes(1));
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
            socket.Listen();
            return true;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            return false;
        }
    }

    /// <summary>The time stamp of a Serilog console line, <c>[HH:mm:ss.fff LVL] ...</c>.</summary>
    public static TimeSpan LogTime(string line)
    {
        var match = LogTimePattern().Match(line);
        if (!match.Success)
        {
            throw new FormatException($"No time stamp in log line '{line}'");
        }

        return TimeSpan.ParseExact(match.Groups[1].Value, @"hh\:mm\:ss\.fff", CultureInfo.InvariantCulture);
    }

    /// <summary>Milliseconds from one log time to a later one (across midnight, too).</summary>
    public static double Between(TimeSpan from, TimeSpan to)
    {
        var difference = to - from;
        return (difference < TimeSpan.Zero ? difference + TimeSpan.FromDays(1) : difference).TotalMilliseconds;
    }

    /// <summary>Sets FD_CLOEXEC on a descriptor of the test process, or clears it; throws on failure.</summary>
    public static void SetCloseOnExec(int fd, bool closeOnExec)
    {
        const int F_GETFD = 1;
        const int F_SETFD = 2;
        const int FD_CLOEXEC = 1;
        int flags = Fcntl(fd, F_GETFD, 0);
        if (flags == -1 || Fcntl(fd, F_SETFD, closeOnExec ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC) == -1)
        {
            throw new InvalidOperationException($"fcntl({fd}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int cmd, int arg);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial uint GetEffectiveUserId();

    [GeneratedRegex(@"^\[(\d\d:\d\d:\d\d\.\d\d\d) ")]
    private static partial Regex LogTimePattern();
}

/// <summary>Helpers around a master's log and its copy of the app.</summary>
internal static class Faulty
{
    /// <summary>Sets <c>HelloGraceful:&lt;key&gt;</c> in the appsettings.json of a copy of the app (read by the next generation).</summary>
    public static void SetHelloOption(string appDirectory, string key, JsonNode value)
    {
        ExampleApp.EditSettings(appDirectory, json =>
        {
            var section = json["HelloGraceful"]?.AsObject() ?? [];
            json["HelloGraceful"] = section;
            section[key] = value;
        });
    }

    /// <summary>Removes <c>HelloGraceful:&lt;key&gt;</c> again.</summary>
    public static void RemoveHelloOption(string appDirectory, string key)
    {
        ExampleApp.EditSettings(appDirectory, json => json["HelloGraceful"]?.AsObject().Remove(key));
    }

    /// <summary>Every line of the log that matches, in order, with its match.</summary>
    public static List<(string Line, Match Match)> Matches(MasterProcess master, string pattern)
    {
        var regex = new Regex(pattern);
        return [.. master.Lines.Select(l => (l, regex.Match(l))).Where(m => m.Item2.Success)];
    }

    public static int Int(Group group) => int.Parse(group.Value, CultureInfo.InvariantCulture);

    /// <summary>The line that contains <paramref name="text"/>; fails with the whole log if there is none.</summary>
    public static string Line(MasterProcess master, string text) =>
        master.Lines.FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal))
        ?? throw new InvalidOperationException($"No log line contains '{text}'. Output:\n{master.Output}");

    /// <summary>Waits until <paramref name="condition"/> holds, polling every few milliseconds; returns the time it took.</summary>
    public static async Task<TimeSpan> WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what, Func<string>? state = null)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > timeout)
            {
                throw new TimeoutException($"{what}: not within {timeout}. {state?.Invoke()}");
            }

            await Task.Delay(10);
        }

        return watch.Elapsed;
    }

    /// <summary>
    /// After the master has exited: it reaped every child (no process, not even a zombie), nothing that
    /// ran the app under it is left, and the port (if one was bound) is free.
    /// </summary>
    public static void AssertNothingLeft(MasterProcess master, int[] children, int? port)
    {
        // The master reaped its children before it exited: no process, not even a zombie, and the port is free.
        foreach (int pid in children)
        {
            Assert.Null(Native.ProcState(pid));
        }

        var survivors = master.AllPids().Where(Native.IsAlive).ToList();
        Assert.True(survivors.Count == 0, $"processes left behind: {string.Join(", ", survivors)}");
        Assert.True(port is null || Proc.CanListenOn(port.Value), $"port {port} must be free after the master exits");
    }

    /// <summary>The port of an http://host:port/ address.</summary>
    public static IPEndPoint EndPoint(Uri address) => new(IPAddress.Parse(address.Host), address.Port);
}

/// <summary>A thread that counts the live children of a process about every millisecond until stopped.</summary>
internal sealed class GenerationSampler : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private int _samples;
    private int _maxAlive;
    private string? _overTwo;

    public GenerationSampler(int pid)
    {
        _thread = new Thread(() =>
        {
            while (!_stop.IsCancellationRequested)
            {
                var alive = Proc.LiveChildren(pid);
                _samples++;
                _maxAlive = Math.Max(_maxAlive, alive.Count);
                if (alive.Count > 2)
                {
                    _overTwo ??= $"{alive.Count} generations alive at once: {string.Join(", ", alive)}";
                }

                Thread.Sleep(1);
            }
        })
        { IsBackground = true, Name = "generation sampler" };
        _thread.Start();
    }

    /// <summary>Stops sampling; returns the number of samples, the most children alive at once, and the first sample with more than two.</summary>
    public (int Samples, int MaxAlive, string? OverTwo) Stop()
    {
        _stop.Cancel();
        _thread.Join();
        return (_samples, _maxAlive, _overTwo);
    }

    public void Dispose()
    {
        Stop();
        _stop.Dispose();
    }
}
