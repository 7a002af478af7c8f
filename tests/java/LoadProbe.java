/* LoadProbe.java - asks the real JVM whether a class would load from a class
 * path entry: the ground truth of the differential tests (t_jvm_diff.py and
 * others).  Reads lines "LOCATION<TAB>CLASS[<TAB>CLASS...]" on stdin and
 * answers one line per input line, "LOCATION<TAB>ANSWER[<TAB>ANSWER...]",
 * each ANSWER one of
 *     loaded          the class was defined from that location
 *     absent          ClassNotFoundException: the JVM does not see it there
 *     error:REASON    the location or the class could not be read or defined
 *                     (ZipException, ClassFormatError, NoClassDefFoundError
 *                     of a superclass, ...)
 * LOCATION is a jar/zip file or a class directory, as `java -cp LOCATION`
 * takes it (the same URLClassPath/JarFile code path: multi-release jars,
 * the JDK's central directory reader), or "OUTER!/ENTRY[!/ENTRY...]": the
 * entry is extracted with java.util.zip.ZipFile, as a servlet container or
 * Spring Boot's launcher would, into a temporary file that is then the
 * location.  A jar the JDK refuses to open (java.util.zip.ZipException from
 * its central directory checks) is answered "error:ZipException: ..." for
 * every class: URLClassLoader itself would skip such a jar silently and say
 * ClassNotFoundException, hiding why.  Each location gets its own class
 * loader whose parent is the platform loader, so nothing leaks from one case
 * into the next and the application class path plays no part.  One JVM answers every case, so a
 * test can ask about thousands of archives in seconds. */
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

public class LoadProbe {
	static final List<File> temps = new ArrayList<>();

	/* Resolve "a.war!/WEB-INF/lib/x.jar" to a file on disk. */
	static File resolve(String loc) throws Exception {
		String[] parts = loc.split("!/");
		File f = new File(parts[0]);
		for (int i = 1; i < parts.length; i++) {
			try (ZipFile z = new ZipFile(f)) {
				ZipEntry e = z.getEntry(parts[i]);
				if (e == null)
					throw new java.io.FileNotFoundException("no entry " + parts[i] + " in " + f);
				File t = File.createTempFile("loadprobe", ".jar");
				temps.add(t);
				try (InputStream in = z.getInputStream(e)) {
					Files.copy(in, t.toPath(), StandardCopyOption.REPLACE_EXISTING);
				}
				f = t;
			}
		}
		return f;
	}

	static String oneLine(Throwable t) {
		String m = t.getClass().getSimpleName() + ": " + t.getMessage();
		return m.replace('\t', ' ').replace('\n', ' ').replace('\r', ' ');
	}

	static String probe(URLClassLoader l, String cls) {
		try {
			Class<?> c = Class.forName(cls, false, l);
			return c.getClassLoader() == l ? "loaded" : "error:loaded by another loader";
		} catch (ClassNotFoundException e) {
			return "absent";
		} catch (Throwable t) {
			return "error:" + oneLine(t);
		}
	}

	public static void main(String[] args) throws Exception {
		PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
		BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
		String line;
		while ((line = in.readLine()) != null) {
			if (line.isEmpty())
				continue;
			String[] f = line.split("\t");
			StringBuilder ans = new StringBuilder(f[0]);
			try {
				File file = resolve(f[0]);
				if (!file.isDirectory()) {
					/* opened as URLClassPath opens a class path jar */
					new JarFile(file, true, ZipFile.OPEN_READ, JarFile.runtimeVersion()).close();
				}
				URL u = file.isDirectory() ? new URL(file.toURI().toString())
							   : file.toURI().toURL();
				try (URLClassLoader l = new URLClassLoader(new URL[] {u},
									     ClassLoader.getPlatformClassLoader())) {
					for (int i = 1; i < f.length; i++)
						ans.append('\t').append(probe(l, f[i]));
				}
			} catch (Throwable t) {
				for (int i = 1; i < f.length; i++)
					ans.append("\terror:").append(oneLine(t));
			}
			out.println(ans);
			out.flush();
			for (File t : temps)
				t.delete();
			temps.clear();
		}
	}
}
