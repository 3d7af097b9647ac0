using GracefulHosting.Hosting;

namespace GracefulHosting.Tests.Hosting;

public class RoleDetectorTests
{
    private static readonly RoleInputs PlainLinux = new(IsLinux: true, HasChildMarker: false, KestrelServes: true, RunByAnotherProgram: false);
    private static readonly RoleInputs LinuxChild = PlainLinux with { HasChildMarker = true };

    private static GracefulRestartOptions Options(GracefulRestartMode mode = GracefulRestartMode.Auto, bool enabled = true) =>
        new() { Mode = mode, Enabled = enabled };

    [Fact]
    public void Detect_NullOptions_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => RoleDetector.Detect(null!, PlainLinux));
    }

    [Fact]
    public void Detect_DefaultsOnLinux_Master()
    {
        Assert.Equal(GracefulRestartRole.Master, RoleDetector.Detect(new GracefulRestartOptions(), PlainLinux));
    }

    [Theory]
    [InlineData(GracefulRestartMode.Auto)]
    [InlineData(GracefulRestartMode.Master)]
    public void Detect_AutoOrMasterOnLinuxWithoutMarker_Master(GracefulRestartMode mode)
    {
        Assert.Equal(GracefulRestartRole.Master, RoleDetector.Detect(Options(mode), PlainLinux));
    }

    [Fact]
    public void Detect_DirectOnLinuxWithoutMarker_Direct()
    {
        Assert.Equal(GracefulRestartRole.Direct, RoleDetector.Detect(Options(GracefulRestartMode.Direct), PlainLinux));
    }

    [Theory]
    [InlineData(GracefulRestartMode.Auto)]
    [InlineData(GracefulRestartMode.Master)]
    [InlineData(GracefulRestartMode.Direct)]
    public void Detect_MarkerPresent_ChildWhateverTheEnabledMode(GracefulRestartMode mode)
    {
        Assert.Equal(GracefulRestartRole.Child, RoleDetector.Detect(Options(mode), LinuxChild));
    }

    [Theory]
    [InlineData(GracefulRestartMode.Auto, false)]
    [InlineData(GracefulRestartMode.Master, false)]
    [InlineData(GracefulRestartMode.Direct, false)]
    [InlineData(GracefulRestartMode.Auto, true)]
    [InlineData(GracefulRestartMode.Master, true)]
    [InlineData(GracefulRestartMode.Direct, true)]
    public void Detect_EnabledFalse_DisabledEvenWithMarker(GracefulRestartMode mode, bool marker)
    {
        Assert.Equal(GracefulRestartRole.Disabled, RoleDetector.Detect(Options(mode, enabled: false), PlainLinux with { HasChildMarker = marker }));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Detect_ModeDisabled_DisabledEvenWithMarker(bool marker)
    {
        Assert.Equal(GracefulRestartRole.Disabled, RoleDetector.Detect(Options(GracefulRestartMode.Disabled), PlainLinux with { HasChildMarker = marker }));
    }

    public static TheoryData<string, GracefulRestartMode, bool> DisablingFacts()
    {
        var data = new TheoryData<string, GracefulRestartMode, bool>();
        foreach (string fact in new[] { "not Linux", "no Kestrel", "run by another program" })
        {
            foreach (var mode in new[] { GracefulRestartMode.Auto, GracefulRestartMode.Master, GracefulRestartMode.Direct })
            {
                data.Add(fact, mode, false);
                data.Add(fact, mode, true);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(DisablingFacts))]
    public void Detect_DisablingFact_DisabledWhateverTheModeAndMarker(string fact, GracefulRestartMode mode, bool marker)
    {
        var inputs = fact switch
        {
            "not Linux" => PlainLinux with { IsLinux = false },
            "no Kestrel" => PlainLinux with { KestrelServes = false },
            _ => PlainLinux with { RunByAnotherProgram = true },
        };

        Assert.Equal(GracefulRestartRole.Disabled, RoleDetector.Detect(Options(mode), inputs with { HasChildMarker = marker }));
    }

    [Fact]
    public void Detect_EveryDisablingFactAtOnce_Disabled()
    {
        var inputs = new RoleInputs(IsLinux: false, HasChildMarker: true, KestrelServes: false, RunByAnotherProgram: true);
        Assert.Equal(GracefulRestartRole.Disabled, RoleDetector.Detect(Options(GracefulRestartMode.Disabled, enabled: false), inputs));
    }
}
