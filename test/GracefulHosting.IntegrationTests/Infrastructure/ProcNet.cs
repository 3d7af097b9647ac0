using System.Globalization;
using System.Net;

namespace GracefulHosting.IntegrationTests.Infrastructure;

/// <summary>Listening sockets of a process, read from /proc/pid/fd and /proc/net/{tcp,tcp6,unix}.</summary>
internal static class ProcNet
{
    private const int UnixListening = 0x10000;

    /// <summary>Socket inode → local address, for every listening TCP socket the process holds.</summary>
    public static Dictionary<string, IPEndPoint> ListeningSockets(int pid) => Held(pid, ListeningInodes());

    /// <summary>
    /// Socket inode → path, for every listening Unix domain socket with a path the process holds, except
    /// the diagnostics socket each .NET process opens for itself and the control socket
    /// <see cref="MasterProcess"/> gives each master (in a <c>gh-control-</c> folder), which serves no app.
    /// </summary>
    public static Dictionary<string, string> ListeningUnixSockets(int pid)
    {
        var listening = new Dictionary<string, string>();
        // Num RefCount Protocol Flags Type St Inode [Path]
        foreach (string line in File.ReadLines("/proc/net/unix").Skip(1))
        {
            var fields = line.Split(' ', 8, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 7 && (int.Parse(fields[3], NumberStyles.HexNumber, CultureInfo.InvariantCulture) & UnixListening) != 0 &&
                !Path.GetFileName(fields[7]).StartsWith("dotnet-diagnostic-", StringComparison.Ordinal) &&
                !fields[7].Contains("/gh-control-", StringComparison.Ordinal))
            {
                listening[fields[6]] = fields[7];
            }
        }

        return Held(pid, listening);
    }

    private static Dictionary<string, T> Held<T>(int pid, Dictionary<string, T> sockets)
    {
        var result = new Dictionary<string, T>();
        foreach (string fd in Directory.EnumerateFiles($"/proc/{pid}/fd"))
        {
            string? target;
            try
            {
                target = new FileInfo(fd).LinkTarget;
            }
            catch (IOException)
            {
                continue;
            }

            if (target is not null && target.StartsWith("socket:[", StringComparison.Ordinal) &&
                sockets.TryGetValue(target[8..^1], out var local))
            {
                result[target[8..^1]] = local;
            }
        }

        return result;
    }

    /// <summary>
    /// True if the process holds the server end of the TCP connection whose client end is
    /// <paramref name="client"/>: it has accepted that connection. (Before accept, the connection waits
    /// in the listening socket's queue, and no process holds it.)
    /// </summary>
    public static bool HasAccepted(int pid, IPEndPoint client)
    {
        var inodes = SocketInodes(pid);
        foreach (string table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            if (!File.Exists(table))
            {
                continue;
            }

            foreach (string line in File.ReadLines(table).Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length > 9 && inodes.Contains(fields[9]) && ParseAddress(fields[2]).Equals(client))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static HashSet<string> SocketInodes(int pid)
    {
        var result = new HashSet<string>();
        try
        {
            foreach (string fd in Directory.EnumerateFiles($"/proc/{pid}/fd"))
            {
                try
                {
                    if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith("socket:[", StringComparison.Ordinal))
                    {
                        result.Add(target[8..^1]);
                    }
                }
                catch (IOException)
                {
                }
            }
        }
        catch (DirectoryNotFoundException)
        {
        }

        return result;
    }

    private static Dictionary<string, IPEndPoint> ListeningInodes()
    {
        var result = new Dictionary<string, IPEndPoint>();
        foreach (string table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            if (!File.Exists(table))
            {
                continue;
            }

            foreach (string line in File.ReadLines(table).Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length > 9 && fields[3] == "0A")
                {
                    result[fields[9]] = ParseAddress(fields[1]);
                }
            }
        }

        return result;
    }

    private static IPEndPoint ParseAddress(string hex)
    {
        var parts = hex.Split(':');
        int port = int.Parse(parts[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        byte[] raw = Convert.FromHexString(parts[0]);
        // /proc/net/tcp prints each 32-bit word in host (little-endian) order.
        for (int i = 0; i < raw.Length; i += 4)
        {
            Array.Reverse(raw, i, 4);
        }

        return new IPEndPoint(new IPAddress(raw), port);
    }
}
