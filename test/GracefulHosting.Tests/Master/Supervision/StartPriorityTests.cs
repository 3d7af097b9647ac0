using System.Diagnostics;
using GracefulHosting.Master.Supervision;

namespace GracefulHosting.Tests.Master.Supervision;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class StartPriorityTests
{
    [LinuxFact]
    public void LowerThenRestore_Nice_EveryThreadAtTenThenBackAtTheMastersValue()
    {
        using var process = Process.Start(new ProcessStartInfo("/bin/sleep", "60"))!;
        try
        {
            var priority = StartPriority.For("nice");
            int before = Nice(process.Id);

            priority.Lower(process.Id);
            int lowered = Nice(process.Id);
            priority.Restore(process.Id);

            Assert.Equal(10, lowered);
            Assert.Equal(before, Nice(process.Id));
        }
        finally
        {
            process.Kill();
        }
    }

    [LinuxFact]
    public void LowerThenRestore_Batch_PolicyBatchThenOther()
    {
        using var process = Process.Start(new ProcessStartInfo("/bin/sleep", "60"))!;
        try
        {
            var priority = StartPriority.For("batch");

            priority.Lower(process.Id);
            int lowered = Policy(process.Id);
            priority.Restore(process.Id);

            Assert.Equal(3, lowered);
            Assert.Equal(0, Policy(process.Id));
        }
        finally
        {
            process.Kill();
        }
    }

    [LinuxFact]
    public void Lower_UnknownMode_LeavesThePriority()
    {
        using var process = Process.Start(new ProcessStartInfo("/bin/sleep", "60"))!;
        try
        {
            int before = Nice(process.Id);

            StartPriority.For("").Lower(process.Id);

            Assert.Equal(before, Nice(process.Id));
            Assert.Equal(0, Policy(process.Id));
        }
        finally
        {
            process.Kill();
        }
    }

    // Fields after the command's closing parenthesis of /proc/<pid>/stat: nice is field 19, policy field 41.
    private static string[] StatFields(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
    }

    private static int Nice(int pid) => int.Parse(StatFields(pid)[19 - 3]);

    private static int Policy(int pid) => int.Parse(StatFields(pid)[41 - 3]);
}
