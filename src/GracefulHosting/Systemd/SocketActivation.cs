using System.Globalization;

namespace GracefulHosting.Systemd;

// Descriptors 3, 4, ... in order, each with the name LISTEN_FDNAMES gives it.
internal sealed record SocketActivation(IReadOnlyList<ActivatedSocket> Sockets)
{
    public const int FirstFd = 3;

    // Removes the variables, so that no process this one starts takes the sockets; null, with the reason, when they are not for this process.
    public static SocketActivation? FromEnvironment(int pid, out string? ignoredReason)
    {
        string? listenPid = Environment.GetEnvironmentVariable("LISTEN_PID");
        string? listenFds = Environment.GetEnvironmentVariable("LISTEN_FDS");
        string? names = Environment.GetEnvironmentVariable("LISTEN_FDNAMES");
        var result = Parse(pid, listenPid, listenFds, names, out ignoredReason);
        if (listenPid is not null || listenFds is not null)
        {
            Environment.SetEnvironmentVariable("LISTEN_PID", null);
            Environment.SetEnvironmentVariable("LISTEN_FDS", null);
            Environment.SetEnvironmentVariable("LISTEN_FDNAMES", null);
        }

        return result;
    }

    public static SocketActivation? Parse(int pid, string? listenPid, string? listenFds, string? listenFdNames, out string? ignoredReason)
    {
        ignoredReason = null;
        if (listenFds is null)
        {
            if (listenPid is not null)
            {
                ignoredReason = "LISTEN_PID is set but LISTEN_FDS is not";
            }

            return null;
        }

        if (!int.TryParse(listenPid, NumberStyles.None, CultureInfo.InvariantCulture, out int forPid))
        {
            ignoredReason = $"LISTEN_PID='{listenPid}' is not a process id";
            return null;
        }

        if (forPid != pid)
        {
            ignoredReason = $"LISTEN_PID={forPid} names another process, not this one ({pid})";
            return null;
        }

        if (!int.TryParse(listenFds, NumberStyles.None, CultureInfo.InvariantCulture, out int count) || count < 1 || count > 1000)
        {
            throw new InvalidOperationException($"LISTEN_FDS='{listenFds}' is not a number of descriptors between 1 and 1000.");
        }

        string[] fdNames = string.IsNullOrEmpty(listenFdNames) ? [] : listenFdNames.Split(':');
        var sockets = new List<ActivatedSocket>();
        for (int i = 0; i < count; i++)
        {
            string? name = i < fdNames.Length && fdNames[i].Length > 0 && fdNames[i] != "unknown" ? fdNames[i] : null;
            sockets.Add(new ActivatedSocket(FirstFd + i, name));
        }

        return new SocketActivation(sockets);
    }
}
