using GracefulHosting.Child;

namespace GracefulHosting;

/// <summary>
/// What this process knows about itself before any host is built: whether a GracefulHosting master
/// started it as a child. Use it in code that runs before <c>Build()</c>; after <c>Build()</c>, ask
/// the <see cref="IGracefulRestartContext"/> service, which also knows the master and disabled roles.
/// </summary>
/// <remarks>
/// A process that is not a child becomes the master when the host is built, unless the library is
/// disabled (by configuration, on a system other than Linux, under a test host, or when the app has no
/// Kestrel server). So <c>!IsChild</c> before <c>Build()</c> means "the master, or a plain run".
/// </remarks>
public static class GracefulRestartProcess
{
    /// <summary>True when a GracefulHosting master started this process to serve the app.</summary>
    public static bool IsChild => Marker is not null;

    /// <summary>The generation of this child (1, 2, ...), or 0 when <see cref="IsChild"/> is false.</summary>
    public static int Generation => Marker?.Generation ?? 0;

    // Read once, before the child removes the variable so that the app's own subprocesses do not inherit it.
    internal static string? MarkerText { get; } = Environment.GetEnvironmentVariable(ChildMarker.VariableName);

    // After MarkerText: static initializers run in the order they are written.
    private static readonly ChildMarker? Marker = ParseMarker(MarkerText);

    private static ChildMarker? ParseMarker(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        try
        {
            return ChildMarker.Parse(text);
        }
        catch (FormatException)
        {
            // Not a valid child: building the host reports the bad variable and stops.
            return null;
        }
    }
}
