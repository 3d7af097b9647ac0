using System.Globalization;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text;
using GracefulHosting.Interop;

namespace GracefulHosting.Hosting;

// journald takes a stream's _PID from the process that connected it, so each child connects its own, as systemd-cat does.
[SupportedOSPlatform("linux")]
internal static class JournalStream
{
    public const string VariableName = "GRACEFULHOSTING_JOURNAL_STREAM";
    public const string SystemdVariable = "JOURNAL_STREAM";
    public const string SocketPath = "/run/systemd/journal/stdout";

    // Which of the master's stdout (1) and stderr (2) are the journal stream that JOURNAL_STREAM (device:inode) names.
    public static IReadOnlyDictionary<string, string> ChildEnvironment() =>
        JournalDescriptors(Environment.GetEnvironmentVariable(SystemdVariable), LinkTarget) is { Count: > 0 } fds
            ? new Dictionary<string, string> { [VariableName] = string.Join(',', fds) }
            : new Dictionary<string, string>();

    // By the socket inode that their /proc/self/fd link names.
    internal static List<int> JournalDescriptors(string? journalStream, Func<int, string?> linkTarget)
    {
        int colon = journalStream?.IndexOf(':', StringComparison.Ordinal) ?? -1;
        if (colon < 0)
        {
            return [];
        }

        string socket = $"socket:[{journalStream![(colon + 1)..]}]";
        return [.. new[] { 1, 2 }.Where(fd => linkTarget(fd) == socket)];
    }

    // Identifier, no unit, priority info, level prefixes parsed, no forwarding.
    internal static byte[] Header(string identifier) => Encoding.UTF8.GetBytes($"{identifier}\n\n6\n1\n0\n0\n0\n");

    internal static Socket Open(string path, string identifier)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
            socket.Shutdown(SocketShutdown.Receive);
            socket.Send(Header(identifier));
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    // Output written before the host is built still goes through the master's pipes.
    public static void ApplyInChild()
    {
        string? named = Environment.GetEnvironmentVariable(VariableName);
        if (named is null)
        {
            return;
        }

        Environment.SetEnvironmentVariable(VariableName, null);
        string? masterStream = Environment.GetEnvironmentVariable(SystemdVariable);
        // Until a stream of its own is in place, this child's output is a pipe to the master, not the journal.
        Environment.SetEnvironmentVariable(SystemdVariable, null);
        try
        {
            var socket = Open(SocketPath, Path.GetFileName(Environment.ProcessPath) ?? "dotnet");
            int fd = (int)socket.Handle;
            foreach (string text in named.Split(','))
            {
                int error = Libc.Dup2(fd, int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture));
                if (error != 0)
                {
                    throw new IOException($"dup2 failed with errno {error}");
                }
            }

            string? inode = LinkTarget(fd) is { } target && target.StartsWith("socket:[", StringComparison.Ordinal) ? target[8..^1] : null;
            // Disposing the Socket could shut the stream down for the copies too: close only this descriptor.
            socket.SafeHandle.SetHandleAsInvalid();
            Libc.Close(fd);
            if (masterStream is not null && inode is not null)
            {
                Environment.SetEnvironmentVariable(SystemdVariable, $"{masterStream[..masterStream.IndexOf(':', StringComparison.Ordinal)]}:{inode}");
            }
        }
        catch (Exception e) when (e is SocketException or IOException or FormatException)
        {
            Console.Error.WriteLine($"GracefulHosting: cannot open a journal stream for this child ({e.Message}); its output goes through the master.");
        }
    }

    private static string? LinkTarget(int fd)
    {
        try
        {
            return new FileInfo($"/proc/self/fd/{fd}").LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
