/* Log4jProbe.java - asks the real log4j-core (2.14.1 from the corpus) which
 * JNDI lookups it performs when it logs a string: the ground truth of
 * tests/t_logs_jvm.py.
 *
 * Reads one string per line on stdin, base64 of its UTF-8 bytes (so any
 * character, newlines included, can be asked about), and answers one line
 * per string:
 *     P<TAB>EXC<TAB>NAMES<TAB>R<TAB>EXC<TAB>NAMES
 * P is the logging path: a logger whose appender formats the event with a
 * PatternLayout "%m", so MessagePatternConverter substitutes the formatted
 * message as Log4j does when it writes a log line.  R is one call of the
 * configuration's StrSubstitutor.replace(String) (no event, one pass).
 * NAMES are the names the JNDI lookup was asked for, in call order, each as
 * base64 of its UTF-8 bytes, joined by ','; "-" when there was none.  EXC is
 * the class of the exception that stopped the formatting, or "-".
 *
 * Nothing is ever fetched: the "jndi" entry of the configuration's
 * Interpolator is replaced, before anything is logged, by a recorder that
 * remembers the name and returns null (a failed lookup), and the probe
 * checks before each string that it is still in place.  The test also runs
 * the JVM without a network (unshare -n) when it can.
 *
 * The configuration is built in code (no file), with no Properties; the
 * default lookup therefore knows only hostName and contextName, as in an
 * application configured from a file without a Properties element. */
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.Logger;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.Configurator;
import org.apache.logging.log4j.core.config.Property;
import org.apache.logging.log4j.core.config.builder.api.ConfigurationBuilder;
import org.apache.logging.log4j.core.config.builder.api.ConfigurationBuilderFactory;
import org.apache.logging.log4j.core.config.builder.impl.BuiltConfiguration;
import org.apache.logging.log4j.core.layout.PatternLayout;
import org.apache.logging.log4j.core.lookup.Interpolator;
import org.apache.logging.log4j.core.lookup.StrLookup;
import org.apache.logging.log4j.core.lookup.StrSubstitutor;

public class Log4jProbe {
	static final List<String> calls = new ArrayList<>();

	/* Stands in for JndiLookup: records, never connects. */
	static final class Recorder implements StrLookup {
		@Override
		public String lookup(String key) {
			calls.add(key);
			return null;
		}

		@Override
		public String lookup(LogEvent event, String key) {
			calls.add(key);
			return null;
		}
	}

	/* Formats each event with its layout and keeps nothing but the outcome. */
	static final class Memory extends AbstractAppender {
		Throwable error;

		Memory(PatternLayout layout) {
			super("memory", null, layout, false, Property.EMPTY_ARRAY);
		}

		@Override
		public void append(LogEvent event) {
			try {
				((PatternLayout) getLayout()).toSerializable(event);
			} catch (Throwable t) {
				error = t;
			}
		}
	}

	static String names() {
		if (calls.isEmpty())
			return "-";
		StringBuilder b = new StringBuilder();
		boolean first = true;
		for (String c : calls) {
			if (!first)
				b.append(',');
			first = false;
			b.append(Base64.getEncoder().encodeToString(c.getBytes(StandardCharsets.UTF_8)));
		}
		return b.toString();
	}

	static String exc(Throwable t) {
		return t == null ? "-" : t.getClass().getName();
	}

	public static void main(String[] args) throws Exception {
		PrintStream out = new PrintStream(System.out, false, "UTF-8");
		/* Log4j reports its own errors (the failures we provoke) here. */
		System.setErr(new PrintStream(OutputStream.nullOutputStream()));
		ConfigurationBuilder<BuiltConfiguration> b = ConfigurationBuilderFactory.newConfigurationBuilder();
		b.setStatusLevel(Level.OFF);
		b.add(b.newRootLogger(Level.ALL));
		LoggerContext ctx = Configurator.initialize(b.build());
		Configuration cfg = ctx.getConfiguration();
		StrSubstitutor subst = cfg.getStrSubstitutor();
		Interpolator interp = (Interpolator) subst.getVariableResolver();
		if (interp.getStrLookupMap().get("jndi") == null)
			throw new IllegalStateException("no jndi lookup in this Log4j: nothing to probe");
		Recorder recorder = new Recorder();
		interp.getStrLookupMap().put("jndi", recorder);
		PatternLayout layout = PatternLayout.newBuilder().withPattern("%m").withConfiguration(cfg).build();
		Memory memory = new Memory(layout);
		memory.start();
		cfg.addAppender(memory);
		cfg.getRootLogger().addAppender(memory, Level.ALL, null);
		ctx.updateLoggers();
		Logger log = ctx.getLogger("probe");

		BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
		String line;
		while ((line = in.readLine()) != null) {
			String s = new String(Base64.getDecoder().decode(line.trim()), StandardCharsets.UTF_8);
			if (cfg.getStrSubstitutor().getVariableResolver() != interp || interp.getStrLookupMap().get("jndi") != recorder)
				throw new IllegalStateException("the recording jndi lookup is no longer in place");
			calls.clear();
			memory.error = null;
			log.info(s);
			String p = "P\t" + exc(memory.error) + "\t" + names();
			calls.clear();
			Throwable rerr = null;
			try {
				subst.replace(s);
			} catch (Throwable t) {
				rerr = t;
			}
			out.print(p + "\tR\t" + exc(rerr) + "\t" + names() + "\n");
			out.flush();
		}
	}
}
