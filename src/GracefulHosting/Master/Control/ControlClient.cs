using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text;

namespace GracefulHosting.Master.Control;

// Exits 0 when the master's last line starts with OK, 1 on ERROR (a rolled-back reload), 2 when the command is wrong or no master answers.
[SupportedOSPlatform("linux")]
internal static class ControlClient
{
    public const string Argument = "--graceful";

    private static readonly string[] Verbs = ["reload", "status"];

    // "" when the verb is missing; null without --graceful.
    public static string? FindVerb(IReadOnlyList<string> args)
    {
        for (int i = 0; i < args.Count; i++)
        {
            if (args[i] == Argument)
            {
                return i + 1 < args.Count ? args[i + 1] : "";
            }

            if (args[i].StartsWith(Argument + "=", StringComparison.Ordinal))
            {
                return args[i][(Argument.Length + 1)..];
            }
        }

        return null;
    }

    public static int Run(string verb, string socketPath, TimeSpan timeout, TextWriter output, TextWriter error)
    {
        if (!Verbs.Contains(verb))
        {
            error.WriteLine($"GracefulHosting: unknown command '{verb}' after {Argument}: use '{Argument} reload' or '{Argument} status'.");
            return 2;
        }

        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(socketPath));
        }
        catch (SocketException e)
        {
            error.WriteLine($"GracefulHosting: no master answers on its control socket {socketPath} ({e.Message}). " +
                "Is the service running, and does this command see the same GracefulRestart:ControlSocket, RUNTIME_DIRECTORY and folder as the master?");
            return 2;
        }

        socket.ReceiveTimeout = (int)Math.Min(int.MaxValue, timeout.TotalMilliseconds);
        socket.Send(Encoding.UTF8.GetBytes(verb + "\n"));
        var answer = new StringBuilder();
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = socket.Receive(buffer)) > 0)
            {
                answer.Append(Encoding.UTF8.GetString(buffer, 0, read));
            }
        }
        catch (SocketException e)
        {
            error.WriteLine($"GracefulHosting: the master did not finish answering '{verb}' within {timeout} ({e.Message}).");
            return 2;
        }

        string[] lines = answer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        foreach (string line in lines)
        {
            output.WriteLine(line);
        }

        return lines.Length > 0 && lines[^1].StartsWith("OK", StringComparison.Ordinal) ? 0 : lines.Length > 0 ? 1 : 2;
    }
}
