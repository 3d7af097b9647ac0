namespace GracefulHosting.Hosting;

/// <summary>The role <c>UseGracefulRestart()</c> gave this process.</summary>
internal enum GracefulRestartRole
{
    /// <summary>The app runs as if the library were absent.</summary>
    Disabled,

    /// <summary>The supervisor: owns the sockets, runs none of the app.</summary>
    Master,

    /// <summary>The app, serving on sockets inherited from a master.</summary>
    Child,

    /// <summary>The app, serving on sockets passed by systemd, with no master.</summary>
    Direct,
}

/// <summary>The facts the role depends on, gathered so the decision itself is a pure function.</summary>
internal readonly record struct RoleInputs(bool IsLinux, bool HasChildMarker, bool UnderTestServer);

/// <summary>Decides the role of the process.</summary>
internal static class RoleDetector
{
    public static GracefulRestartRole Detect(GracefulRestartOptions options, RoleInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Enabled || options.Mode == GracefulRestartMode.Disabled || inputs.UnderTestServer || !inputs.IsLinux)
        {
            return GracefulRestartRole.Disabled;
        }

        if (inputs.HasChildMarker)
        {
            return GracefulRestartRole.Child;
        }

        return options.Mode == GracefulRestartMode.Direct ? GracefulRestartRole.Direct : GracefulRestartRole.Master;
    }
}

/// <summary>What the app can learn about its role, registered in every role.</summary>
internal sealed record GracefulRestartContext(GracefulRestartRole Role, int Generation);
