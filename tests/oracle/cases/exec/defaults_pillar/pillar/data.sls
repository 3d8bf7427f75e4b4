web:
  port: 80
  modules: [ssl, rewrite]
  vhosts: {default: {root: /var/www}}
  name: main
roles: [web, db]
