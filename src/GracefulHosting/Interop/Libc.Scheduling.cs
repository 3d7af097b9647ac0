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

    // Linux applies PRIO_PROCESS to the one thread whose id it is given.
    public static bool TrySetNice(int tid, int nice) => SetPriorityRaw(PRIO_PROCESS, (uint)tid, nice) == 0;

    public static int GetNice()
    {
        Marshal.SetLastPInvokeError(0);
        int nice = GetPriorityRaw(PRIO_PROCESS, 0);
        return nice == -1 && Marshal.GetLastPInvokeError() != 0 ? 0 : nice;
    }

    public static unsafe bool TrySetPolicy(int tid, int policy)
    {
        int priority = 0;
        return SchedSetScheduler(tid, policy, &priority) == 0;
    }
}
