using System.Net.Http.Headers;
using System.Net.Http.Json;
using GracefulHosting.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace GracefulHosting.IntegrationTests.RealApps;

/// <summary>
/// An app written the way users write one: EF Core on SQLite, ASP.NET Core Identity bearer tokens, an
/// authenticated GET that queries the database, and the warm-up the README recommends for it.
/// </summary>
public sealed class IdentityAppTests(ITestOutputHelper output)
{
    private sealed record NotesPage(int Pid, int ServedBefore, int QueriesBefore);

    private sealed record Login(string AccessToken);

    [Fact]
    public async Task Restart_WarmupHook_PaysFirstUseCostsBeforeReadyAndAFailingHookRollsBack()
    {
        using var data = new TempDirectory();
        await using var master = MasterProcess.Start(app: "IdentityApp", arguments: [$"--IdentityApp:DataDirectory={data.Path}"], output: output);
        var address = await master.WaitForAddressAsync();
        await master.WaitForReadyAsync(1);
        using var client = Http.CreateClient(address);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await RegisterAndLogInAsync(client));

        master.Signal(Native.SIGHUP);
        int second = await master.WaitForRestartAsync(2);

        master.AssertInOrder($"Database and Identity warmed up in pid {second}", $"Child generation 2 (pid {second}) is ready",
            "the warm-up hook must run before the new generation reports ready");
        // The first authenticated request the new generation serves finds the notes query already run.
        var first = await FirstPageFromAsync(client, second);
        Assert.Equal(0, first.ServedBefore);
        Assert.True(first.QueriesBefore >= 1, $"the first request after the restart ran the query cold ({first})");

        // A deploy whose database cannot be read: the new generation's hook fails, and the old one keeps serving.
        string broken = Path.Combine(data.Path, "broken.db");
        await File.WriteAllTextAsync(broken, "this is not a database, but a file of text long enough for SQLite to read its header");
        await File.WriteAllTextAsync(Path.Combine(data.Path, "appsettings.Deploy.json"),
            $$"""{ "ConnectionStrings": { "App": "Data Source={{broken}}" } }""");
        master.Signal(Native.SIGHUP);

        await master.WaitForLineAsync($@"Restart rolled back: generation 2 \(pid {second}\) keeps serving");
        Assert.True(master.HasLine(@"Warm-up failed: warm-up hook 1 of 1 \(IdentityApp\.DatabaseWarmup\) failed: SqliteException"), master.Output);
        Assert.False(master.HasLine(@"Child generation 3 \(pid \d+\) is ready"));
        var after = await client.GetFromJsonAsync<NotesPage>("/notes");
        Assert.Equal(second, after!.Pid);
    }

    /// <summary>Registers a user with Identity's API endpoints and returns a bearer token for it.</summary>
    private static async Task<string> RegisterAndLogInAsync(HttpClient client)
    {
        var user = new { email = "ada@example.com", password = "Passw0rd!" };
        (await client.PostAsJsonAsync("/register", user)).EnsureSuccessStatusCode();
        using var login = await client.PostAsJsonAsync("/login", user);
        login.EnsureSuccessStatusCode();
        return (await login.Content.ReadFromJsonAsync<Login>())!.AccessToken;
    }

    /// <summary>
    /// GETs the notes until <paramref name="pid"/> answers (the old generation may answer while it drains)
    /// and returns that generation's first answer.
    /// </summary>
    private static async Task<NotesPage> FirstPageFromAsync(HttpClient client, int pid)
    {
        var deadline = DateTime.UtcNow + MasterProcess.DefaultTimeout;
        while (true)
        {
            var page = await client.GetFromJsonAsync<NotesPage>("/notes");
            if (page!.Pid == pid || DateTime.UtcNow > deadline)
            {
                Assert.Equal(pid, page.Pid);
                return page;
            }
        }
    }
}
