using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text;

namespace GracefulHosting.Master.Control;

/// <summary>
/// Where the master's control socket is, found the same way by the master and by the <c>--graceful</c>
/// command that talks to it: <see cref="GracefulRestartOptions.ControlSocket"/> when set; else
/// <c>graceful.sock</c> in systemd's <c>$RUNTIME_DIRECTORY</c>; else a file named after the app and its
/// start directory in <c>/tmp/gracefulhosting-&lt;uid&gt;/</c>, a folder only this user may enter.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class ControlSocketPath
{
    /// <summary>The path, and whether the option set it (a socket the option names must be had; a default one may be skipped).</summary>
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

    /// <summary>The folder for default control sockets of user <paramref name="uid"/>.</summary>
    public static string PrivateFolder(uint uid) => $"/tmp/gracefulhosting-{uid}";
}
