using GracefulHosting.Child.Warmup;

namespace GracefulHosting.Tests.Child.Warmup;

public class HeaderTemplateTests
{
    [Theory]
    [InlineData("Bearer ${env:TOKEN}")]
    [InlineData("${config:A:B}")]
    [InlineData("plain $ and $$ and $5")]
    [InlineData("")]
    public void Check_WellFormed_Null(string value)
    {
        Assert.Null(HeaderTemplate.Check(value));
    }

    [Theory]
    [InlineData("Bearer ${env:TOKEN", "'${env:TOKEN…' has no closing '}'")]
    [InlineData("${secret:X}", "'${secret:X}' must be ${env:NAME} or ${config:Section:Key}")]
    [InlineData("${env:}", "'${env:}' must be ${env:NAME} or ${config:Section:Key}")]
    [InlineData("${env:A B}", "'${env:A B}' must be ${env:NAME} or ${config:Section:Key}")]
    public void Check_Malformed_NamesTheBadPartOnly(string value, string error)
    {
        Assert.Equal(error, HeaderTemplate.Check(value));
    }
}
