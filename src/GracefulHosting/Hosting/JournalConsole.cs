using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace GracefulHosting.Hosting;

// UseSystemd() picks the journal format only when the parent is systemd; a child's parent is the master, so the master tells it.
internal static class JournalConsole
{
    public const string VariableName = "GRACEFULHOSTING_JOURNAL_CONSOLE";

    // Only when the master is a systemd service logging to the console in the journal format, or writes to a journal stream.
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

    // Also hides the variables from the app's own subprocesses.
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
