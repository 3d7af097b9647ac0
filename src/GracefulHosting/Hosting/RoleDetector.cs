namespace GracefulHosting.Hosting;

/// <summary>
/// The facts the role depends on, gathered so the decision itself is a pure function.
/// </summary>
/// <param name="IsLinux">The process runs on Linux.</param>
/// <param name="HasChildMarker">A master started this process (its marker variable is set).</param>
/// <param name="KestrelServes">The app's server, the last <c>IServer</c> registered, is Kestrel's; false with no server at all.</param>
/// <param name="RunByAnotherProgram">The app is run inside another program, as <c>WebApplicationFactory</c> runs it inside a test host.</param>
internal readonly record struct RoleInputs(bool IsLinux, bool HasChildMarker, bool KestrelServes, bool RunByAnotherProgram);

/// <summary>Decides the role of the process.</summary>
internal static class RoleDetector
{
    public static GracefulRestartRole Detect(GracefulRestartOptions options, RoleInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(options);
        // A master restarts the app by running this process's command line again, and hands Kestrel's
        // sockets over: neither makes sense for an app run by a test host, or one with no Kestrel.
        if (!options.Enabled || options.Mode == GracefulRestartMode.Disabled || !inputs.IsLinux
            || !inputs.KestrelServes || inputs.RunByAnotherProgram)
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
