{#- A tiny static web site: the www account, /srv/www, the saline-httpd
    package from a local .deb, its config from pillar, and a check that the
    page answers with the greeting. Pillar: web:port, web:server_name,
    web:greeting (see web/defaults.yaml for the rest). -#}
{%- from "web/map.jinja" import web with context %}
{#- The server runs as web.user, which owns nothing it serves: the content is
    root's, readable through the group. #}

web-group:
  group.present:
    - name: {{ web.group }}
    - system: True

web-user:
  user.present:
    - name: {{ web.user }}
    - gid: {{ web.group }}
    - home: {{ web.root }}
    - createhome: False
    - shell: {{ web.nologin }}
    - fullname: Web server
    - system: True
    - require:
      - group: web-group

web-root:
  file.directory:
    - name: {{ web.root }}
    - user: root
    - group: {{ web.group }}
    - mode: '0755'
    - require:
      - group: web-group

web-tree:
  file.directory:
    - names:
      - {{ web.root }}/html
      - {{ web.root }}/conf
    - user: root
    - group: {{ web.group }}
    - mode: '0755'
    - require:
      - file: web-root

web-index:
  file.managed:
    - name: {{ web.root }}/html/index.html
    - source: salt://web/files/index.html.jinja
    - template: jinja
    - user: root
    - group: {{ web.group }}
    - mode: '0644'
    - context:
        server_name: {{ web.server_name | json }}
        greeting: {{ web.greeting | json }}
    - require:
      - file: web-tree

{#- What the site is, for tools that want it (monitoring, a load balancer). #}
web-site-settings:
  file.serialize:
    - name: {{ web.root }}/conf/site.json
    - serializer: json
    - dataset:
        server_name: {{ web.server_name | json }}
        port: {{ web.port }}
        greeting: {{ web.greeting | json }}
    - user: root
    - group: {{ web.group }}
    - mode: '0644'
    - require:
      - file: web-tree

web-package:
  pkg.installed:
    - name: {{ web.package }}
    - sources:
      - {{ web.package }}: {{ web.package_source }}

web-config:
  file.managed:
    - name: {{ web.config }}
    - source: salt://web/files/saline-httpd.conf.jinja
    - template: jinja
    - user: root
    - group: root
    - mode: '0644'
    - context:
        web: {{ web | json }}
    - require:
      - pkg: web-package

web-service:
  service.running:
    - name: {{ web.service }}
    - enable: True
    - require:
      - user: web-user
      - file: web-index
    - watch:
      - pkg: web-package
      - file: web-config

{#- Only after something changed: fetch the page and look for the greeting. #}
web-check:
  cmd.run:
    - name: >-
        {{ web.python }} -c 'import html, os, sys, urllib.request;
        url, want = os.environ["WEB_URL"], html.escape(os.environ["WEB_GREETING"]);
        body = urllib.request.urlopen(url, timeout=10).read().decode();
        sys.exit(0 if want in body else f"{url} answered without {want!r}")'
    - env:
      - WEB_URL: http://127.0.0.1:{{ web.port }}/
      - WEB_GREETING: {{ web.greeting | json }}
    - require:
      - service: web-service
    - onchanges:
      - file: web-index
      - file: web-config
