using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text;

namespace GracefulHosting.Master.Control;

// Found the same way by the master and the --graceful command: the option, else $RUNTIME_DIRECTORY/graceful.sock, else a private /tmp folder.
[SupportedOSPlatform("linux")]
internal static class ControlSocketPath
{
    // Configured: a socket the option names must be had; a default one may be skipped.
    public static (string Path, bool Configured) Resolve(string? configured, string? runtimeDirectory, string applicationName, string startDirectory, uint uid)
    {
        if (!string.IsNullOrEmpty(configured))
        {
            return (System.IO.Path.GetFullPath(configured, startDirectory), true);
        }

        if (!string.IsNullOrEmpty(runtimeDirectory) && System.IO.Path.IsPathRooted(runtimeDirectory))
        {
            return (System.IO.Path.Combine(runtimeDirectory, "graceful.sock"), false);
        }

        // Two copies of an app in different folders get different sockets; a Unix socket path holds 107 bytes.
        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(startDirectory)))[..12];
        string name = new(applicationName.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_').Take(40).ToArray());
        return (System.IO.Path.Combine(PrivateFolder(uid), $"{name}-{hash}.sock"), false);
    }

    // A folder only this user may enter.
    public static string PrivateFolder(uint uid) => $"/tmp/gracefulhosting-{uid}";
}
