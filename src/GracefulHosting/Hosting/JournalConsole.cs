using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace GracefulHosting.Hosting;

/// <summary>
/// Gives children the journal console format of a master that runs as a systemd service.
/// </summary>
/// <remarks>
/// <c>UseSystemd()</c>/<c>AddSystemd()</c> pick the <c>systemd</c> console formatter only when
/// <see cref="SystemdHelpers.IsSystemdService"/> is true, which looks at the parent process: the
/// master's parent is systemd, a child's is the master. So the master, which knows the answer, tells
/// its children in their environment, and a child selects the same formatter itself.
/// </remarks>
internal static class JournalConsole
{
    public const string VariableName = "GRACEFULHOSTING_JOURNAL_CONSOLE";

    /// <summary>The master's part: the variables for each child, set when the master is a systemd service that logs to the console in the journal format, and when its output is a journal stream (<see cref="JournalStream"/>).</summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public static IReadOnlyDictionary<string, string> ChildEnvironment(IServiceProvider services)
    {
        bool journal = SystemdHelpers.IsSystemdService()
            && services.GetService<IOptions<ConsoleLoggerOptions>>()?.Value.FormatterName == ConsoleFormatterNames.Systemd;
        var environment = new Dictionary<string, string>(JournalStream.ChildEnvironment());
        if (journal)
        {
            environment[VariableName] = "1";
        }

        return environment;
    }

    /// <summary>The child's part: opens its own journal stream and selects the journal console format if the master asked for them, and hides the variables from the app's own subprocesses.</summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public static void ApplyInChild(IServiceCollection services)
    {
        JournalStream.ApplyInChild();
        if (Environment.GetEnvironmentVariable(VariableName) != "1")
        {
            return;
        }

        Environment.SetEnvironmentVariable(VariableName, null);
        services.Configure<ConsoleLoggerOptions>(options => options.FormatterName = ConsoleFormatterNames.Systemd);
    }
}
