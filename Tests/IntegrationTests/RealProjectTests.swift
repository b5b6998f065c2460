import Foundation
import GroveModel
import Testing

/// Projects shaped like the ones Platform.sh's own templates hold, written for Platform.sh, pushed unchanged.
@Suite("Real project shapes", .serialized)
struct RealProjectTests {
    /// Django + PostgreSQL as Platform.sh's Django template lays it out: `.platform/applications.yaml` including the
    /// application file beside it, gunicorn on a unix socket, static files served by the router, migrations in the
    /// deploy hook, the database read from PLATFORM_RELATIONSHIPS with platformshconfig.
    static let django: [String: String] = [
        ".platform/applications.yaml": "- !include pip.app.yaml\n",
        ".platform/pip.app.yaml": """
        name: app
        type: "python:3.11"
        relationships:
          database: "db:postgresql"
        variables:
          env:
            DJANGO_SETTINGS_MODULE: "site_conf.settings"
        build:
          flavor: none
        hooks:
          build: |
            set -eu
            pip install -r requirements.txt
            python manage.py collectstatic --noinput
          deploy: |
            python manage.py migrate
        web:
          upstream:
            socket_family: unix
          commands:
            start: "gunicorn -w 2 -b unix:$SOCKET site_conf.wsgi:application"
          locations:
            "/":
              passthru: true
            "/static":
              root: "static"
              expires: 1h
              allow: true
        mounts:
          "logs":
            source: local
            source_path: logs

        """,
        ".platform/services.yaml": "db:\n  type: postgresql:15\n  disk: 512\n",
        ".platform/routes.yaml": """
        "https://{default}/":
          type: upstream
          upstream: "app:http"
        "https://www.{default}/":
          type: redirect
          to: "https://{default}/"

        """,
        "requirements.txt": "django>=4.2,<5\npsycopg2-binary\ngunicorn\nplatformshconfig\n",
        "manage.py": """
        import os, sys
        if __name__ == "__main__":
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_conf.settings")
            from django.core.management import execute_from_command_line
            execute_from_command_line(sys.argv)

        """,
        "site_conf/__init__.py": "",
        "site_conf/settings.py": """
        import os
        from platformshconfig import Config
        BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        SECRET_KEY = "test-only"
        DEBUG = False
        ALLOWED_HOSTS = ["*"]
        INSTALLED_APPS = ["django.contrib.staticfiles", "counter"]
        ROOT_URLCONF = "site_conf.urls"
        STATIC_URL = "/static/"
        STATIC_ROOT = os.path.join(BASE_DIR, "static")
        STATICFILES_DIRS = [os.path.join(BASE_DIR, "assets")]
        USE_TZ = True
        config = Config()
        if config.is_valid_platform() and not config.in_build():
            db = config.credentials("database")
            DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": db["path"], "USER": db["username"],
                                     "PASSWORD": db["password"], "HOST": db["host"], "PORT": db["port"]}}
            SECRET_KEY = "test-only-" + os.environ["PLATFORM_PROJECT"]
        else:
            DATABASES = {}

        """,
        "site_conf/urls.py": "from django.urls import path\nfrom counter.views import hit\nurlpatterns = [path(\"\", hit)]\n",
        "site_conf/wsgi.py": "from django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n",
        "counter/__init__.py": "",
        "counter/models.py": "from django.db import models\nclass Hit(models.Model):\n    branch = models.CharField(max_length=100)\n",
        "counter/migrations/__init__.py": "",
        "counter/migrations/0001_initial.py": """
        from django.db import migrations, models
        class Migration(migrations.Migration):
            initial = True
            dependencies = []
            operations = [migrations.CreateModel(name="Hit", fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False)),
                ("branch", models.CharField(max_length=100))])]

        """,
        "counter/views.py": """
        import os
        from django.http import JsonResponse
        from counter.models import Hit
        def hit(request):
            Hit.objects.create(branch=os.environ["PLATFORM_BRANCH"])
            return JsonResponse({"hits": Hit.objects.count(), "branches": sorted(set(Hit.objects.values_list("branch", flat=True)))})

        """,
        "assets/site.css": "body { color: green }\n",
    ]

    /// PHP + MariaDB + Redis as a Platform.sh PHP project lays it out: PHP-FPM with a front controller and location
    /// rules, credentials read from PLATFORM_RELATIONSHIPS in PHP, PDO for MariaDB, the redis extension.
    static let php: [String: String] = [
        ".platform.app.yaml": """
        name: site
        type: "php:8.2"
        relationships:
          database: "db:mysql"
          cache: "cache:redis"
        web:
          locations:
            "/":
              root: "public"
              passthru: "/index.php"
              rules:
                '\\.txt$':
                  allow: false
        disk: 256

        """,
        ".platform/services.yaml": "db:\n  type: mariadb:10.11\n  disk: 256\ncache:\n  type: redis:7.0\n",
        ".platform/routes.yaml": "\"https://{default}/\":\n  type: upstream\n  upstream: \"site:http\"\n",
        "public/index.php": """
        <?php
        $rels = json_decode(base64_decode(getenv('PLATFORM_RELATIONSHIPS')), true);
        $db = $rels['database'][0];
        $pdo = new PDO(sprintf('mysql:host=%s;port=%d;dbname=%s', $db['host'], $db['port'], $db['path']), $db['username'], $db['password']);
        $pdo->exec('CREATE TABLE IF NOT EXISTS visits (branch VARCHAR(100))');
        $pdo->prepare('INSERT INTO visits VALUES (?)')->execute([getenv('PLATFORM_BRANCH')]);
        $rows = (int) $pdo->query('SELECT COUNT(*) FROM visits')->fetchColumn();
        $c = $rels['cache'][0];
        $redis = new Redis();
        $redis->connect($c['host'], $c['port']);
        if (!empty($c['password'])) { $redis->auth($c['password']); }
        $hits = $redis->incr('hits');
        header('Content-Type: application/json');
        echo json_encode(['rows' => $rows, 'hits' => $hits, 'path' => $_SERVER['REQUEST_URI']]);

        """,
        "public/notes.txt": "private\n",
    ]

    @Test("PHP + MariaDB + Redis: PHP-FPM with location rules reads both services through the relationships; a branch has the data")
    func phpMariaDBRedis() async throws {
        let s = try await TestServer.start(.sqlite)
        defer { s.stopNow() }
        let (_, pid, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        try tree.commit(Self.php)
        var (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        var (code, body) = try s.fetch(pid)
        var j = (try? JSON.parse(body)) ?? .null
        #expect(code == 200 && j["rows"] == 1 && j["hits"] == 1, "\(code) \(body)")
        (code, body) = try s.fetch(pid, path: "/any/page")
        j = (try? JSON.parse(body)) ?? .null
        #expect(code == 200 && j["rows"] == 2 && j["hits"] == 2 && j["path"] == "/any/page", "\(code) \(body)")
        // A file a rule disallows is not served; passthru hands the request to the front controller instead.
        (code, body) = try s.fetch(pid, path: "/notes.txt")
        #expect(!body.contains("private") && body.contains("notes.txt"), "\(code) \(body)")
        (st, out) = try tree.push(["-o", "environment.status=active", "HEAD:refs/heads/feature"])
        #expect(st == 0, "\(out)")
        (code, body) = try s.fetch(pid, environment: "feature")
        j = (try? JSON.parse(body)) ?? .null
        #expect(code == 200 && j["rows"] == 4, "\(code) \(body)")
    }

    /// Two applications sharing one network-storage service, as Platform.sh projects share uploads between a web app
    /// and a worker app: what one writes, the other reads; a branch starts with a copy.
    static let sharedFiles: [String: String] = [
        ".platform/applications.yaml": """
        - name: writer
          type: "python:3.11"
          source: {root: writer}
          mounts:
            "shared": {source: service, service: files, source_path: uploads}
          web: {commands: {start: "python3 server.py"}}
        - name: reader
          type: "python:3.11"
          source: {root: reader}
          mounts:
            "data": {source: service, service: files, source_path: uploads}
          web: {commands: {start: "python3 server.py"}}

        """,
        ".platform/services.yaml": "files:\n  type: network-storage:2.0\n  disk: 256\n",
        ".platform/routes.yaml": "\"https://{default}/\": {type: upstream, upstream: \"writer:http\"}\n\"https://reader.{default}/\": {type: upstream, upstream: \"reader:http\"}\n",
        "writer/server.py": """
        import os, http.server
        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a): pass
            def do_GET(self):
                name = self.path.strip("/") or "note"
                with open("shared/" + name + ".txt", "w") as f:
                    f.write(os.environ["PLATFORM_BRANCH"])
                self.send_response(200); self.end_headers(); self.wfile.write(b"written")
        http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()

        """,
        "reader/server.py": """
        import os, http.server
        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a): pass
            def do_GET(self):
                names = sorted(os.listdir("data"))
                body = ",".join(n + "=" + open("data/" + n).read() for n in names).encode()
                self.send_response(200); self.end_headers(); self.wfile.write(body)
        http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()

        """,
    ]

    @Test("network-storage: two applications share one volume; a branch starts with a copy of it")
    func networkStorage() async throws {
        let s = try await TestServer.start(.sqlite)
        defer { s.stopNow() }
        let (_, pid, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        try tree.commit(Self.sharedFiles)
        var (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        #expect(out.contains("Creating service files (network-storage:2.0)"), "\(out)")
        var (code, body) = try s.fetch(pid, path: "/first")
        #expect(code == 200 && body == "written", "\(code) \(body)")
        (code, body) = try s.fetch(host: "reader.main-\(pid).localhost")
        #expect(code == 200 && body == "first.txt=main", "\(code) \(body)")
        (st, out) = try tree.push(["-o", "environment.status=active", "HEAD:refs/heads/feature"])
        #expect(st == 0, "\(out)")
        (code, body) = try s.fetch(pid, environment: "feature", path: "/second")
        #expect(code == 200, "\(code) \(body)")
        (code, body) = try s.fetch(host: "reader.feature-\(pid).localhost")
        #expect(code == 200 && body == "first.txt=main,second.txt=feature", "\(code) \(body)")
        (code, body) = try s.fetch(host: "reader.main-\(pid).localhost")
        #expect(code == 200 && body == "first.txt=main", "\(code) \(body)")
    }

    @Test("Django + PostgreSQL in the template's layout: builds, migrates, serves pages and static files; a branch starts with the data")
    func djangoTemplate() async throws {
        let s = try await TestServer.start(.sqlite)
        defer { s.stopNow() }
        let (_, pid, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        try tree.commit(Self.django)
        var (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        #expect(out.contains("Applying counter.0001_initial"), "\(out)")
        var (code, body) = try s.fetch(pid)
        #expect(code == 200 && body.contains("\"hits\": 1"), "\(code) \(body)")
        (code, body) = try s.fetch(pid)
        #expect(code == 200 && body.contains("\"hits\": 2"), "\(code) \(body)")
        (code, body) = try s.fetch(pid, path: "/static/site.css")
        #expect(code == 200 && body.contains("color: green"), "\(code) \(body)")

        // A branch with the parent's data: its hits continue from main's two; main does not see them.
        (st, out) = try tree.push(["-o", "environment.status=active", "HEAD:refs/heads/feature"])
        #expect(st == 0, "\(out)")
        (code, body) = try s.fetch(pid, environment: "feature")
        #expect(code == 200 && body.contains("\"hits\": 3") && body.contains("feature") && body.contains("main"), "\(code) \(body)")
        (code, body) = try s.fetch(pid)
        #expect(code == 200 && body.contains("\"hits\": 3") && !body.contains("feature"), "\(code) \(body)")
    }
}
