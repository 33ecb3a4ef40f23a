# make            build the bundled agent (fence-agents/fence_atca)
# make install    install it into $(DESTDIR)/usr/sbin, where Pacemaker looks for fence agents
# make check      the whole test suite (scripts/test.sh)
.PHONY: all install check
all:
	npm run --silent build
install: all
	node scripts/install-agent.mjs $(DESTDIR)
check:
	bash scripts/test.sh
