using Serilog;
using Serilog.Events;

namespace HelloGraceful;

/// <summary>
/// Reads the <c>Serilog</c> section of configuration where the app runs as Native AOT code.
/// <c>ReadFrom.Configuration</c> finds sinks and their arguments by reflection, which trimming and
/// Native AOT cannot keep, so there the same section is read here instead: <c>MinimumLevel</c> (a level,
/// or <c>Default</c> and <c>Override</c>) and <c>WriteTo</c> with the <c>Console</c> sink
/// (<c>outputTemplate</c>) and the <c>File</c> sink (<c>path</c>, <c>outputTemplate</c>, <c>shared</c>).
/// Any other sink or a bad level stops the app with an error that names the key.
/// </summary>
public static class SerilogSettings
{
    public const string SectionName = "Serilog";

    /// <summary>Configures <paramref name="logger"/> from the <c>Serilog</c> section of <paramref name="configuration"/>.</summary>
    public static LoggerConfiguration FromConfiguration(LoggerConfiguration logger, IConfiguration configuration)
    {
        var section = configuration.GetSection(SectionName);
        var minimum = section.GetSection("MinimumLevel");
        if (minimum.Value is { } level)
        {
            logger.MinimumLevel.Is(ParseLevel(minimum.Path, level));
        }
        else
        {
            if (minimum["Default"] is { } defaultLevel)
            {
                logger.MinimumLevel.Is(ParseLevel(minimum.Path + ":Default", defaultLevel));
            }

            foreach (var entry in minimum.GetSection("Override").GetChildren())
            {
                if (entry.Value is { } value)
                {
                    logger.MinimumLevel.Override(entry.Key, ParseLevel(entry.Path, value));
                }
            }
        }

        foreach (var sink in section.GetSection("WriteTo").GetChildren())
        {
            var args = sink.GetSection("Args");
            string? template = args["outputTemplate"];
            switch (sink["Name"])
            {
                case "Console":
                    if (template is null)
                    {
                        logger.WriteTo.Console();
                    }
                    else
                    {
                        logger.WriteTo.Console(outputTemplate: template);
                    }

                    break;
                case "File":
                    string path = args["path"] is { Length: > 0 } p ? p
                        : throw new InvalidOperationException($"{args.Path}:path must name the log file.");
                    bool shared = bool.TryParse(args["shared"], out bool s) && s;
                    if (template is null)
                    {
                        logger.WriteTo.File(path, shared: shared);
                    }
                    else
                    {
                        logger.WriteTo.File(path, outputTemplate: template, shared: shared);
                    }

                    break;
                default:
                    throw new InvalidOperationException(
                        $"{sink.Path}:Name is '{sink["Name"]}'; the Native AOT build of this app supports the Console and File sinks.");
            }
        }

        return logger;
    }

    private static LogEventLevel ParseLevel(string key, string value) =>
        Enum.TryParse(value, ignoreCase: true, out LogEventLevel level) && Enum.IsDefined(level)
            ? level
            : throw new InvalidOperationException($"{key} must be Verbose, Debug, Information, Warning, Error or Fatal (was '{value}').");
}
