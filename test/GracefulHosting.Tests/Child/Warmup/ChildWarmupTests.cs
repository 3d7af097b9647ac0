using System.Net;
using GracefulHosting.Child.Warmup;

namespace GracefulHosting.Tests.Child.Warmup;

public class ChildWarmupTests
{
    [Fact]
    public void Done_NothingToWarmUp_CompletedAtOnce()
    {
        Assert.True(new ChildWarmup(enabled: false).Done.IsCompleted);
    }

    [Fact]
    public void Done_Enabled_CompletesOnlyWhenFinished()
    {
        var warmup = new ChildWarmup(enabled: true);
        Assert.False(warmup.Done.IsCompleted);

        warmup.Finish();

        Assert.True(warmup.Done.IsCompleted);
    }
}
