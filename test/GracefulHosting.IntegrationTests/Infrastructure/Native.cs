using System.Runtime.InteropServices;

namespace GracefulHosting.IntegrationTests.Infrastructure;

/// <summary>Signals for the processes the tests start.</summary>
internal static partial class Native
{
    public const int SIGHUP = 1;
    public const int SIGINT = 2;
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int KillProcess(int pid, int signal);

    public static void Kill(int pid, int signal)
    {
        if (KillProcess(pid, signal) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            const int ESRCH = 3;
            if (errno != ESRCH)
            {
                throw new InvalidOperationException($"kill({pid}, {signal}) failed: errno {errno}");
            }
        }
    }

    /// <summary>The file the process runs (the target of /proc/pid/exe), or null if the process is gone.</summary>
    public static string? ExecutablePath(int pid)
    {
        try
        {
            return File.ResolveLinkTarget($"/proc/{pid}/exe", returnFinalTarget: false)?.FullName;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>True while the process exists and is not a zombie.</summary>
    public static bool IsAlive(int pid)
    {
        string? state = ProcState(pid);
        return state is not null && state != "Z" && state != "X";
    }

    /// <summary>The state letter from /proc/pid/stat, or null if the process is gone.</summary>
    public static string? ProcState(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            int close = stat.LastIndexOf(')');
            return stat[(close + 2)..].Split(' ')[0];
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    public static int ParentPid(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            int close = stat.LastIndexOf(')');
            return int.Parse(stat[(close + 2)..].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException)
        {
            return -1;
        }
    }

    /// <summary>Every live descendant of <paramref name="pid"/>, found by walking /proc.</summary>
    public static List<int> Descendants(int pid)
    {
        var parents = new Dictionary<int, int>();
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out int candidate))
            {
                parents[candidate] = ParentPid(candidate);
            }
        }

        var result = new List<int>();
        var frontier = new Queue<int>([pid]);
        while (frontier.Count > 0)
        {
            int parent = frontier.Dequeue();
            foreach (var (child, ppid) in parents)
            {
                if (ppid == parent && !result.Contains(child))
                {
                    result.Add(child);
                    frontier.Enqueue(child);
                }
            }
        }

        return result;
    }
}
