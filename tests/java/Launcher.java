/* Launcher.java - the entry point of the fat jar built by tests/t_ps.sh: like
 * Spring Boot, it runs BOOT-INF/classes with the jars in BOOT-INF/lib/ of its
 * own jar, reading them in memory, so the JVM has only the fat jar open and
 * log4j-core exists only as a nested jar inside it. */
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLConnection;
import java.net.URLStreamHandler;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarInputStream;

public class Launcher {
	static final Map<String, List<byte[]>> res = new HashMap<>();

	public static void main(String[] a) throws Exception {
		String self = Launcher.class.getProtectionDomain().getCodeSource().getLocation().getPath();
		try (JarFile fat = new JarFile(self)) {
			for (JarEntry e : Collections.list(fat.entries())) {
				if (e.isDirectory())
					continue;
				byte[] b = fat.getInputStream(e).readAllBytes();
				if (e.getName().startsWith("BOOT-INF/classes/"))
					put(e.getName().substring(17), b);
				else if (e.getName().startsWith("BOOT-INF/lib/") && e.getName().endsWith(".jar"))
					try (JarInputStream in = new JarInputStream(new ByteArrayInputStream(b))) {
						for (JarEntry n; (n = in.getNextJarEntry()) != null;)
							if (!n.isDirectory())
								put(n.getName(), in.readAllBytes());
					}
			}
		}
		ClassLoader cl = new Mem(ClassLoader.getPlatformClassLoader());
		Thread.currentThread().setContextClassLoader(cl);
		cl.loadClass("Hold").getMethod("main", String[].class).invoke(null, (Object) a);
	}

	static void put(String n, byte[] b) {
		res.computeIfAbsent(n, k -> new ArrayList<>()).add(b);
	}

	static class Mem extends ClassLoader {
		Mem(ClassLoader parent) {
			super(parent);
		}

		protected Class<?> findClass(String name) throws ClassNotFoundException {
			List<byte[]> l = res.get(name.replace('.', '/') + ".class");
			if (l == null)
				throw new ClassNotFoundException(name);
			return defineClass(name, l.get(0), 0, l.get(0).length);
		}

		protected URL findResource(String name) {
			List<byte[]> l = res.get(name);
			return l == null ? null : url(name, l.get(0));
		}

		protected Enumeration<URL> findResources(String name) {
			List<URL> out = new ArrayList<>();
			List<byte[]> l = res.get(name);
			if (l != null)
				for (int i = 0; i < l.size(); i++)
					out.add(url(name + "#" + i, l.get(i)));
			return Collections.enumeration(out);
		}

		static URL url(String name, byte[] b) {
			try {
				return new URL("mem", "", -1, "/" + name, new URLStreamHandler() {
					protected URLConnection openConnection(URL u) {
						return new URLConnection(u) {
							public void connect() {
							}

							public InputStream getInputStream() {
								return new ByteArrayInputStream(b);
							}
						};
					}
				});
			} catch (MalformedURLException e) {
				throw new RuntimeException(e);
			}
		}
	}
}
