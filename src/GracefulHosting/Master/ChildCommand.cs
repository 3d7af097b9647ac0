using System.Runtime.Versioning;
using System.Text;
using GracefulHosting.Interop;

namespace GracefulHosting.Master;

/// <summary>
/// The command line and working directory the master was started with; each child gets the same,
/// plus <see cref="Environment"/>.
/// </summary>
/// <remarks>
/// Paths are kept as the master was started with them, not resolved. In the usual deploy layout
/// <c>/opt/app/current -&gt; releases/42</c>, swapped before a reload, each new child then runs the
/// release that <c>current</c> names at the time it starts, and the master's own release folder can be deleted.
/// </remarks>
internal sealed record ChildCommand(string FileName, IReadOnlyList<string> Arguments, string WorkingDirectory)
{
    /// <summary>Variables the master adds to each child's environment.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// Reads the exact argv of this process from <c>/proc/self/cmdline</c>. The working directory is
    /// the unresolved one the master was started in: <c>PWD</c> (set by shells) or the folder of an
    /// absolute path on the command line (as systemd's <c>ExecStart=</c> requires), where it names the
    /// current directory through a symbolic link; otherwise the current directory itself.
    /// </summary>
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

    /// <summary>
    /// The directory a child starts in: <paramref name="pwd"/>, or else the folder of the first
    /// absolute path in <paramref name="argv"/>, if it names <paramref name="currentDirectory"/>
    /// (which the kernel reports with links resolved) through a link; otherwise <paramref name="currentDirectory"/>.
    /// </summary>
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
