using System.Reflection;
using GracefulHosting.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace GracefulHosting.Tests.Hosting;

public class RoleFactsTests
{
    private static readonly Assembly EntryAssembly = Assembly.GetEntryAssembly()!;
    private static readonly Assembly TestAssembly = typeof(RoleFactsTests).Assembly;

    [Fact]
    public void KestrelServes_WebApplicationBuilderDefaults_True()
    {
        var builder = WebApplication.CreateSlimBuilder();

        Assert.True(RoleFacts.KestrelServes(builder.Services));
    }

    [Fact]
    public void KestrelServes_KestrelThenTestServer_False()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();

        Assert.False(RoleFacts.KestrelServes(builder.Services));
    }

    [Fact]
    public void KestrelServes_WorkerWithoutServer_False()
    {
        var builder = Host.CreateApplicationBuilder();

        Assert.DoesNotContain(builder.Services, d => d.ServiceType == typeof(IServer));
        Assert.False(RoleFacts.KestrelServes(builder.Services));
    }

    [Fact]
    public void KestrelServes_ServerFromFactoryMethod_False()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IServer>(_ => new FakeServer());

        Assert.False(RoleFacts.KestrelServes(services));
    }

    [Fact]
    public void KestrelServes_ServerInstanceOfAnotherAssembly_False()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IServer>(new FakeServer());

        Assert.False(RoleFacts.KestrelServes(services));
    }

    [Fact]
    public void RunByAnotherProgram_ApplicationNameIsEntryAssembly_False()
    {
        Assert.False(RoleFacts.RunByAnotherProgram(EntryAssembly.GetName().Name));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("NameTheAppChoseItself")]
    public void RunByAnotherProgram_NameOfNoLoadedProgram_False(string? applicationName)
    {
        Assert.False(RoleFacts.RunByAnotherProgram(applicationName));
    }

    [Fact]
    public void RunByAnotherProgram_NameOfLoadedLibraryWithoutEntryPoint_False()
    {
        var library = typeof(RoleFacts).Assembly;
        Assert.Null(library.EntryPoint);

        Assert.False(RoleFacts.RunByAnotherProgram(library.GetName().Name));
    }

    [Fact]
    public void RunByAnotherProgram_ThisTestAssemblyRunByTheTestHost_True()
    {
        // The test SDK gives test assemblies a Main; the test host, the entry assembly, loads them.
        Assert.NotNull(TestAssembly.EntryPoint);
        Assert.NotEqual(EntryAssembly, TestAssembly);

        Assert.True(RoleFacts.RunByAnotherProgram(TestAssembly.GetName().Name));
    }

    [Fact]
    public void RunByAnotherProgram_AppIsLoadedProgramButNotTheEntry_True()
    {
        // As under WebApplicationFactory: the app (an executable) is loaded by another entry assembly.
        Assert.NotNull(EntryAssembly.EntryPoint);

        Assert.True(RoleFacts.RunByAnotherProgram(EntryAssembly.GetName().Name, TestAssembly, [TestAssembly, EntryAssembly]));
    }

    [Fact]
    public void RunByAnotherProgram_NoEntryAssembly_False()
    {
        Assert.False(RoleFacts.RunByAnotherProgram(EntryAssembly.GetName().Name, entryAssembly: null, [EntryAssembly]));
    }
}
