using System.Runtime.InteropServices;

namespace GracefulHosting.Interop;

internal static partial class Libc
{
    public const int PRIO_PROCESS = 0;
    public const int SCHED_OTHER = 0;
    public const int SCHED_BATCH = 3;

    [LibraryImport(LibraryName, EntryPoint = "setpriority", SetLastError = true)]
    private static partial int SetPriorityRaw(int which, uint who, int prio);

    [LibraryImport(LibraryName, EntryPoint = "getpriority", SetLastError = true)]
    private static partial int GetPriorityRaw(int which, uint who);

    [LibraryImport(LibraryName, EntryPoint = "sched_setscheduler", SetLastError = true)]
    private static unsafe partial int SchedSetScheduler(int pid, int policy, int* param);

    /// <summary>Sets one thread's nice value (Linux applies PRIO_PROCESS to the thread id given); false when refused.</summary>
    public static bool TrySetNice(int tid, int nice) => SetPriorityRaw(PRIO_PROCESS, (uint)tid, nice) == 0;

    /// <summary>The calling thread's nice value.</summary>
    public static int GetNice()
    {
        Marshal.SetLastPInvokeError(0);
        int nice = GetPriorityRaw(PRIO_PROCESS, 0);
        return nice == -1 && Marshal.GetLastPInvokeError() != 0 ? 0 : nice;
    }

    /// <summary>Sets one thread's scheduling policy with priority 0 (SCHED_OTHER or SCHED_BATCH); false when refused.</summary>
    public static unsafe bool TrySetPolicy(int tid, int policy)
    {
        int priority = 0;
        return SchedSetScheduler(tid, policy, &priority) == 0;
    }
}
