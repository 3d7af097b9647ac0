namespace GracefulHosting.Hosting;

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
