using System.Globalization;
using Microsoft.Extensions.Options;

namespace GracefulHosting;

// Each failure names the configuration key of the bad value.
internal sealed class GracefulRestartOptionsValidator : IValidateOptions<GracefulRestartOptions>
{
    private static readonly TimeSpan MaxTimeout = TimeSpan.FromDays(1);

    public ValidateOptionsResult Validate(string? name, GracefulRestartOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();

        if (!Enum.IsDefined(options.Mode))
        {
            failures.Add(Describe(nameof(options.Mode), options.Mode.ToString(), "must be Auto, Master, Direct or Disabled"));
        }

        if (!Enum.IsDefined(options.Strategy))
        {
            failures.Add(Describe(nameof(options.Strategy), options.Strategy.ToString(), "must be StartFirst or StopFirst"));
        }

        CheckPositive(failures, nameof(options.StartTimeout), options.StartTimeout);
        Child.Warmup.WarmupOptionsCheck.Check(options, failures);

        CheckPositive(failures, nameof(options.ExitTimeout), options.ExitTimeout);

        CheckWithinExitTimeout(failures, nameof(options.DrainQuietPeriod), options.DrainQuietPeriod, options.ExitTimeout);
        CheckWithinExitTimeout(failures, nameof(options.Http2GoAwayWindow), options.Http2GoAwayWindow, options.ExitTimeout);
        if (options.LongLivedGracePeriod is { } grace)
        {
            CheckWithinExitTimeout(failures, nameof(options.LongLivedGracePeriod), grace, options.ExitTimeout);
        }

        if (options.CrashRestartDelay < TimeSpan.Zero || options.CrashRestartDelay > MaxTimeout)
        {
            failures.Add(Describe(nameof(options.CrashRestartDelay), Format(options.CrashRestartDelay), "must be between 00:00:00 and 1.00:00:00"));
        }

        if (options.CrashRestartMaxDelay < options.CrashRestartDelay || options.CrashRestartMaxDelay > MaxTimeout)
        {
            failures.Add(Describe(nameof(options.CrashRestartMaxDelay), Format(options.CrashRestartMaxDelay),
                "must be at least GracefulRestart:CrashRestartDelay and at most 1.00:00:00"));
        }

        if (!RestartSignals.TryParse(options.RestartSignal, out _))
        {
            failures.Add(Describe(nameof(options.RestartSignal), options.RestartSignal, "must be SIGHUP, SIGUSR1 or SIGUSR2"));
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void CheckPositive(List<string> failures, string key, TimeSpan value)
    {
        if (value <= TimeSpan.Zero || value > MaxTimeout)
        {
            failures.Add(Describe(key, Format(value), "must be greater than 00:00:00 and at most 1.00:00:00"));
        }
    }

    private static void CheckWithinExitTimeout(List<string> failures, string key, TimeSpan value, TimeSpan exitTimeout)
    {
        if (value < TimeSpan.Zero || value >= exitTimeout)
        {
            failures.Add(Describe(key, Format(value), "must be at least 00:00:00 and less than GracefulRestart:ExitTimeout"));
        }
    }

    private static string Format(TimeSpan value) => value.ToString("c", CultureInfo.InvariantCulture);

    private static string Describe(string key, string? value, string rule) =>
        $"{GracefulRestartOptions.SectionName}:{key} {rule} (was '{value}').";
}
