using System.Globalization;
using System.Runtime.Versioning;
using GracefulHosting.Interop;

namespace GracefulHosting.Master.Supervision;

// GRACEFUL_RESTART_START_PRIORITY=nice|batch: a starting generation yields the cores to the serving one until READY.
[SupportedOSPlatform("linux")]
internal sealed class StartPriority
{
    public const string VariableName = "GRACEFUL_RESTART_START_PRIORITY";
    private const int StartNice = 10;

    private readonly string _mode;
    private readonly int _masterNice;
    private readonly bool _canRestoreNice;

    private StartPriority(string mode, int masterNice)
    {
        _mode = mode;
        _masterNice = masterNice;
        _canRestoreNice = mode == "nice" && (Libc.GetEffectiveUserId() == 0 || NiceLimit() >= 20 - masterNice);
    }

    public static StartPriority FromEnvironment() => For(Environment.GetEnvironmentVariable(VariableName) ?? "");

    public static StartPriority For(string mode) => new(mode.Trim().ToLowerInvariant(), Libc.GetNice());

    public void Lower(int pid) => Set(pid, StartNice, Libc.SCHED_BATCH);

    public void Restore(int pid) => Set(pid, _masterNice, Libc.SCHED_OTHER);

    private void Set(int pid, int nice, int policy)
    {
        switch (_mode)
        {
            // Raising a nice value back needs CAP_SYS_NICE or RLIMIT_NICE; without either the generation
            // would serve at nice 10 for good, so it starts at the master's priority instead.
            case "nice" when _canRestoreNice:
                ForEachThread(pid, tid => Libc.TrySetNice(tid, nice));
                break;
            case "batch":
                ForEachThread(pid, tid => Libc.TrySetPolicy(tid, policy));
                break;
        }
    }

    private static int NiceLimit()
    {
        try
        {
            var line = File.ReadLines("/proc/self/limits").FirstOrDefault(l => l.StartsWith("Max nice priority", StringComparison.Ordinal));
            var soft = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3];
            return int.TryParse(soft, NumberStyles.Integer, CultureInfo.InvariantCulture, out int limit) ? limit : 0;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    // Threads inherit their creator's priority, so a second pass catches any created during the first.
    private static void ForEachThread(int pid, Func<int, bool> apply)
    {
        for (int pass = 0; pass < 2; pass++)
        {
            try
            {
                foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
                {
                    if (int.TryParse(Path.GetFileName(task), NumberStyles.None, CultureInfo.InvariantCulture, out int tid))
                    {
                        apply(tid);
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return;
            }
        }
    }
}
