using System.Runtime.Versioning;
using System.Text;

namespace GracefulHosting.Master;

/// <summary>The command line and working directory the master was started with; each child gets the same.</summary>
internal sealed record ChildCommand(string FileName, IReadOnlyList<string> Arguments, string WorkingDirectory)
{
    /// <summary>Reads the exact argv of this process from <c>/proc/self/cmdline</c>.</summary>
    [SupportedOSPlatform("linux")]
    public static ChildCommand FromCurrentProcess()
    {
        string[] argv = ParseCmdline(File.ReadAllBytes("/proc/self/cmdline"));
        string fileName = argv.Length > 0 && argv[0].Length > 0
            ? argv[0]
            : Environment.ProcessPath ?? throw new InvalidOperationException("Cannot find the path of the running executable.");
        return new ChildCommand(fileName, argv.Skip(1).ToArray(), Environment.CurrentDirectory);
    }

    internal static string[] ParseCmdline(ReadOnlySpan<byte> cmdline)
    {
        var args = new List<string>();
        while (!cmdline.IsEmpty)
        {
            int end = cmdline.IndexOf((byte)0);
            if (end < 0)
            {
                end = cmdline.Length;
            }

            args.Add(Encoding.UTF8.GetString(cmdline[..end]));
            cmdline = end < cmdline.Length ? cmdline[(end + 1)..] : [];
        }

        return args.ToArray();
    }
}
