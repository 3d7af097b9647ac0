using GracefulHosting.Hosting;

namespace GracefulHosting.Tests.Hosting;

public class RoleDetectorTests
{
    private static readonly RoleInputs PlainLinux = new(IsLinux: true, HasChildMarker: false, UnderTestServer: false);
    private static readonly RoleInputs LinuxChild = new(IsLinux: true, HasChildMarker: true, UnderTestServer: false);

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
        var inputs = new RoleInputs(IsLinux: true, HasChildMarker: marker, UnderTestServer: false);
        Assert.Equal(GracefulRestartRole.Disabled, RoleDetector.Detect(Options(mode, enabled: false), inputs));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Detect_ModeDisabled_DisabledEvenWithMarker(bool marker)
    {
        var inputs = new RoleInputs(IsLinux: true, HasChildMarker: marker, UnderTestServer: false);
        Assert.Equal(GracefulRestartRole.Disabled, RoleDetector.Detect(Options(GracefulRestartMode.Disabled), inputs));
    }

    [Theory]
    [InlineData(GracefulRestartMode.Auto, false)]
    [InlineData(GracefulRestartMode.Master, false)]
    [InlineData(GracefulRestartMode.Direct, false)]
    [InlineData(GracefulRestartMode.Auto, true)]
    [InlineData(GracefulRestartMode.Master, true)]
    public void Detect_UnderTestServer_DisabledWhateverTheMode(GracefulRestartMode mode, bool marker)
    {
        var inputs = new RoleInputs(IsLinux: true, HasChildMarker: marker, UnderTestServer: true);
        Assert.Equal(GracefulRestartRole.Disabled, RoleDetector.Detect(Options(mode), inputs));
    }

    [Theory]
    [InlineData(GracefulRestartMode.Auto, false)]
    [InlineData(GracefulRestartMode.Master, false)]
    [InlineData(GracefulRestartMode.Direct, false)]
    [InlineData(GracefulRestartMode.Auto, true)]
    [InlineData(GracefulRestartMode.Master, true)]
    public void Detect_NotLinux_DisabledWhateverTheMode(GracefulRestartMode mode, bool marker)
    {
        var inputs = new RoleInputs(IsLinux: false, HasChildMarker: marker, UnderTestServer: false);
        Assert.Equal(GracefulRestartRole.Disabled, RoleDetector.Detect(Options(mode), inputs));
    }

    [Fact]
    public void Detect_EveryDisablingFactAtOnce_Disabled()
    {
        var inputs = new RoleInputs(IsLinux: false, HasChildMarker: true, UnderTestServer: true);
        Assert.Equal(GracefulRestartRole.Disabled, RoleDetector.Detect(Options(GracefulRestartMode.Disabled, enabled: false), inputs));
    }
}
