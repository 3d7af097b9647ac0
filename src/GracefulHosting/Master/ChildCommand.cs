using System.Runtime.Versioning;
using System.Text;
using GracefulHosting.Interop;

namespace GracefulHosting.Master;

// Paths stay as given: with /opt/app/current -> releases/42 swapped before a reload, each child runs the release current names then.
internal sealed record ChildCommand(string FileName, IReadOnlyList<string> Arguments, string WorkingDirectory)
{
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    [SupportedOSPlatform("linux")]
    public static ChildCommand FromCurrentProcess(IReadOnlyDictionary<string, string>? environment = null)
    {
        string[] argv = ParseCmdline(File.ReadAllBytes("/proc/self/cmdline"));
        string workingDirectory = StartDirectory(
            System.Environment.CurrentDirectory, System.Environment.GetEnvironmentVariable("PWD"), argv, Libc.RealPath);
        string fileName = argv.Length > 0 && argv[0].Length > 0
            ? argv[0]
            : System.Environment.ProcessPath ?? throw new InvalidOperationException("Cannot find the path of the running executable.");
        // A relative program path ("./app") is relative to the directory it was started in, not to
        // the resolved one .NET would use.
        if (fileName.Contains('/', StringComparison.Ordinal) && !Path.IsPathRooted(fileName))
        {
            fileName = Path.GetFullPath(fileName, workingDirectory);
        }

        return new ChildCommand(fileName, argv.Skip(1).ToArray(), workingDirectory)
        {
            Environment = environment ?? new Dictionary<string, string>(),
        };
    }

    // PWD, else the folder of an absolute argv path that names the current directory through a link: the kernel reports it resolved.
    internal static string StartDirectory(string currentDirectory, string? pwd, IReadOnlyList<string> argv, Func<string, string?> realPath)
    {
        var candidates = new List<string>();
        if (!string.IsNullOrEmpty(pwd) && Path.IsPathRooted(pwd))
        {
            candidates.Add(pwd);
        }

        candidates.AddRange(argv.Where(a => a.Length > 1 && Path.IsPathRooted(a)).Select(Path.GetDirectoryName).OfType<string>());
        string current = Path.TrimEndingDirectorySeparator(currentDirectory);
        foreach (string candidate in candidates)
        {
            string trimmed = Path.TrimEndingDirectorySeparator(candidate);
            if (trimmed != current && realPath(trimmed) is { } resolved && Path.TrimEndingDirectorySeparator(resolved) == current)
            {
                return trimmed;
            }
        }

        return currentDirectory;
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
