namespace GracefulHosting.Tests;

public class GracefulRestartOptionsValidatorTests
{
    private static readonly GracefulRestartOptionsValidator Validator = new();

    private static string SingleFailure(GracefulRestartOptions options)
    {
        var result = Validator.Validate(Microsoft.Extensions.Options.Options.DefaultName, options);
        Assert.True(result.Failed);
        return Assert.Single(result.Failures!);
    }

    [Fact]
    public void Validate_Defaults_Succeeds()
    {
        var result = Validator.Validate(Microsoft.Extensions.Options.Options.DefaultName, new GracefulRestartOptions());
        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Fact]
    public void Validate_NullOptions_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => Validator.Validate(null, null!));
    }

    [Fact]
    public void Validate_AllLegalNonDefaultValues_Succeeds()
    {
        var options = new GracefulRestartOptions
        {
            Mode = GracefulRestartMode.Direct,
            Strategy = RestartStrategy.StopFirst,
            StartTimeout = TimeSpan.FromDays(1),
            ExitTimeout = TimeSpan.FromTicks(2),
            DrainQuietPeriod = TimeSpan.FromTicks(1),
            Http2GoAwayWindow = TimeSpan.FromTicks(1),
            LongLivedGracePeriod = TimeSpan.FromTicks(1),
            RestartSignal = "usr2",
            CrashRestartDelay = TimeSpan.Zero,
            CrashRestartMaxDelay = TimeSpan.Zero,
        };

        var result = Validator.Validate(null, options);
        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Theory]
    [InlineData(0, "00:00:00")]
    [InlineData(-1, "-00:00:01")]
    [InlineData(86401, "1.00:00:01")]
    public void Validate_BadStartTimeout_FailsNamingKeyAndValue(int seconds, string shown)
    {
        string failure = SingleFailure(new GracefulRestartOptions { StartTimeout = TimeSpan.FromSeconds(seconds) });
        Assert.Contains("GracefulRestart:StartTimeout", failure, StringComparison.Ordinal);
        Assert.Contains($"'{shown}'", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, "00:00:00")]
    [InlineData(-30, "-00:00:30")]
    [InlineData(172800, "2.00:00:00")]
    public void Validate_BadExitTimeout_FailsNamingKeyAndValue(int seconds, string shown)
    {
        // DrainQuietPeriod must stay below ExitTimeout, so a zero or negative ExitTimeout fails that rule too.
        var result = Validator.Validate(null, new GracefulRestartOptions { ExitTimeout = TimeSpan.FromSeconds(seconds) });

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f =>
            f.StartsWith("GracefulRestart:ExitTimeout ", StringComparison.Ordinal) && f.Contains($"'{shown}'", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("DrainQuietPeriod", -1, 30, "-00:00:01")]
    [InlineData("DrainQuietPeriod", 30, 30, "00:00:30")]
    [InlineData("DrainQuietPeriod", 31, 30, "00:00:31")]
    [InlineData("LongLivedGracePeriod", -1, 30, "-00:00:01")]
    [InlineData("LongLivedGracePeriod", 30, 30, "00:00:30")]
    [InlineData("LongLivedGracePeriod", 45, 30, "00:00:45")]
    [InlineData("Http2GoAwayWindow", -1, 30, "-00:00:01")]
    [InlineData("Http2GoAwayWindow", 30, 30, "00:00:30")]
    [InlineData("Http2GoAwayWindow", 31, 30, "00:00:31")]
    public void Validate_PeriodNotBelowExitTimeout_FailsNamingKeyAndValue(string key, int seconds, int exitSeconds, string shown)
    {
        var options = new GracefulRestartOptions { ExitTimeout = TimeSpan.FromSeconds(exitSeconds) };
        var value = TimeSpan.FromSeconds(seconds);
        switch (key)
        {
            case nameof(options.DrainQuietPeriod):
                options.DrainQuietPeriod = value;
                break;
            case nameof(options.Http2GoAwayWindow):
                options.Http2GoAwayWindow = value;
                break;
            default:
                options.LongLivedGracePeriod = value;
                break;
        }

        string failure = SingleFailure(options);

        Assert.StartsWith($"GracefulRestart:{key} ", failure, StringComparison.Ordinal);
        Assert.Contains($"'{shown}'", failure, StringComparison.Ordinal);
        Assert.Contains("GracefulRestart:ExitTimeout", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ZeroDrainQuietPeriod_Succeeds()
    {
        var result = Validator.Validate(null, new GracefulRestartOptions { DrainQuietPeriod = TimeSpan.Zero });

        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Fact]
    public void Validate_ZeroHttp2GoAwayWindow_Succeeds()
    {
        var result = Validator.Validate(null, new GracefulRestartOptions { Http2GoAwayWindow = TimeSpan.Zero });

        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Fact]
    public void Validate_ZeroLongLivedGracePeriod_Succeeds()
    {
        var result = Validator.Validate(null, new GracefulRestartOptions { LongLivedGracePeriod = TimeSpan.Zero });

        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Theory]
    [InlineData(30, 5000)]
    [InlineData(10, 5000)]
    [InlineData(4, 2000)]
    [InlineData(1, 500)]
    public void EffectiveLongLivedGracePeriod_Unset_FiveSecondsOrHalfTheExitTimeout(int exitSeconds, int expectedMs)
    {
        var options = new GracefulRestartOptions { ExitTimeout = TimeSpan.FromSeconds(exitSeconds), DrainQuietPeriod = TimeSpan.Zero };

        Assert.True(Validator.Validate(null, options).Succeeded);
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), options.EffectiveLongLivedGracePeriod);
    }

    [Fact]
    public void EffectiveLongLivedGracePeriod_Set_IsTheSetValue()
    {
        var options = new GracefulRestartOptions { LongLivedGracePeriod = TimeSpan.FromSeconds(12) };

        Assert.Equal(TimeSpan.FromSeconds(12), options.EffectiveLongLivedGracePeriod);
    }

    [Fact]
    public void Validate_NegativeCrashRestartDelay_FailsNamingKeyAndValue()
    {
        string failure = SingleFailure(new GracefulRestartOptions { CrashRestartDelay = TimeSpan.FromSeconds(-2) });
        Assert.Contains("GracefulRestart:CrashRestartDelay", failure, StringComparison.Ordinal);
        Assert.Contains("'-00:00:02'", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_CrashRestartDelayAboveOneDay_Fails()
    {
        var options = new GracefulRestartOptions
        {
            CrashRestartDelay = TimeSpan.FromDays(2),
            CrashRestartMaxDelay = TimeSpan.FromDays(1),
        };

        var result = Validator.Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.StartsWith("GracefulRestart:CrashRestartDelay ", StringComparison.Ordinal) && f.Contains("'2.00:00:00'", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_CrashRestartMaxDelayBelowCrashRestartDelay_FailsNamingKeyAndValue()
    {
        string failure = SingleFailure(new GracefulRestartOptions
        {
            CrashRestartDelay = TimeSpan.FromSeconds(10),
            CrashRestartMaxDelay = TimeSpan.FromSeconds(5),
        });

        Assert.StartsWith("GracefulRestart:CrashRestartMaxDelay ", failure, StringComparison.Ordinal);
        Assert.Contains("'00:00:05'", failure, StringComparison.Ordinal);
        Assert.Contains("GracefulRestart:CrashRestartDelay", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_CrashRestartMaxDelayAboveOneDay_FailsNamingKeyAndValue()
    {
        string failure = SingleFailure(new GracefulRestartOptions { CrashRestartMaxDelay = TimeSpan.FromHours(25) });
        Assert.StartsWith("GracefulRestart:CrashRestartMaxDelay ", failure, StringComparison.Ordinal);
        Assert.Contains("'1.01:00:00'", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SIGTERM")]
    [InlineData("SIGKILL")]
    [InlineData("")]
    [InlineData("1")]
    [InlineData("SIGUSR3")]
    public void Validate_UnknownRestartSignal_FailsNamingKeyAndValue(string signal)
    {
        string failure = SingleFailure(new GracefulRestartOptions { RestartSignal = signal });
        Assert.Contains("GracefulRestart:RestartSignal", failure, StringComparison.Ordinal);
        Assert.Contains($"'{signal}'", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_NullRestartSignal_FailsNamingKey()
    {
        string failure = SingleFailure(new GracefulRestartOptions { RestartSignal = null! });
        Assert.Contains("GracefulRestart:RestartSignal", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("healthz")]
    [InlineData("/with space")]
    [InlineData("/tab\there")]
    public void Validate_BadWarmupPath_FailsNamingKeyAndValue(string path)
    {
        var result = new GracefulRestartOptionsValidator().Validate(null, new GracefulRestartOptions { WarmupPath = path });

        Assert.True(result.Failed);
        Assert.Contains("GracefulRestart:WarmupPath", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains(path, result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("/")]
    [InlineData("/healthz?warm=1")]
    public void Validate_GoodOrEmptyWarmupPath_Succeeds(string? path)
    {
        Assert.True(new GracefulRestartOptionsValidator().Validate(null, new GracefulRestartOptions { WarmupPath = path }).Succeeded);
    }

    [Fact]
    public void Validate_UndefinedMode_FailsNamingKeyAndValue()
    {
        string failure = SingleFailure(new GracefulRestartOptions { Mode = (GracefulRestartMode)42 });
        Assert.Contains("GracefulRestart:Mode", failure, StringComparison.Ordinal);
        Assert.Contains("'42'", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_UndefinedStrategy_FailsNamingKeyAndValue()
    {
        string failure = SingleFailure(new GracefulRestartOptions { Strategy = (RestartStrategy)7 });
        Assert.Contains("GracefulRestart:Strategy", failure, StringComparison.Ordinal);
        Assert.Contains("'7'", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_SeveralBadValues_ReportsEachOne()
    {
        var options = new GracefulRestartOptions
        {
            StartTimeout = TimeSpan.Zero,
            ExitTimeout = TimeSpan.Zero,
            DrainQuietPeriod = TimeSpan.FromSeconds(-1),
            RestartSignal = "SIGINT",
        };

        var result = Validator.Validate(null, options);

        Assert.True(result.Failed);
        // The default Http2GoAwayWindow is not below the zero ExitTimeout either.
        Assert.Equal(5, result.Failures!.Count());
        Assert.Contains("GracefulRestart:StartTimeout", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("GracefulRestart:ExitTimeout", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("GracefulRestart:DrainQuietPeriod", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("GracefulRestart:Http2GoAwayWindow", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("GracefulRestart:RestartSignal", result.FailureMessage, StringComparison.Ordinal);
    }
}

public class RestartSignalsTests
{
    [Theory]
    [InlineData("SIGHUP", GracefulHosting.Interop.Signals.SIGHUP)]
    [InlineData("HUP", GracefulHosting.Interop.Signals.SIGHUP)]
    [InlineData("sighup", GracefulHosting.Interop.Signals.SIGHUP)]
    [InlineData(" SIGHUP ", GracefulHosting.Interop.Signals.SIGHUP)]
    [InlineData("sigusr1", GracefulHosting.Interop.Signals.SIGUSR1)]
    [InlineData("USR1", GracefulHosting.Interop.Signals.SIGUSR1)]
    [InlineData("SIGUSR2", GracefulHosting.Interop.Signals.SIGUSR2)]
    [InlineData("usr2", GracefulHosting.Interop.Signals.SIGUSR2)]
    public void TryParse_KnownName_ReturnsSignalNumber(string name, int expected)
    {
        Assert.True(RestartSignals.TryParse(name, out int signal));
        Assert.Equal(expected, signal);
    }

    [Fact]
    public void TryParse_KnownNames_MapToLinuxSignalNumbers()
    {
        Assert.Equal((true, 1), (RestartSignals.TryParse("SIGHUP", out int hup), hup));
        Assert.Equal((true, 10), (RestartSignals.TryParse("SIGUSR1", out int usr1), usr1));
        Assert.Equal((true, 12), (RestartSignals.TryParse("SIGUSR2", out int usr2), usr2));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("SIGTERM")]
    [InlineData("SIGINT")]
    [InlineData("SIGKILL")]
    [InlineData("1")]
    [InlineData("SIG HUP")]
    [InlineData("SIGHUPX")]
    public void TryParse_OtherName_ReturnsFalseAndZero(string? name)
    {
        Assert.False(RestartSignals.TryParse(name, out int signal));
        Assert.Equal(0, signal);
    }
}
