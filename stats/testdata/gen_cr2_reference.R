# Reference values for stats.CompareClustersCR2 from R's clubSandwich
# (Pustejovsky & Tipton 2018) and a dense-matrix implementation of the
# Imbens-Kolesar degrees of freedom.
#
#   Rscript stats/testdata/gen_cr2_reference.R > stats/testdata/cr2_reference.json
#
# Every data set is generated here with a fixed seed (R's default
# Mersenne-Twister), reduced to per-cluster sums (the inputs of the Go
# function) and analysed in R:
#
# - proportion and mean metrics: the conversation-level regression
#   lm(y ~ treat) or lm(y ~ treat + zbar) (zbar = the shop's mean pre-period
#   covariate), vcovCR(type = "CR2", cluster = shop), and coef_test(test =
#   "Satterthwaite") for the Bell-McCaffrey degrees of freedom;
# - ratio metrics: the cluster-level weighted regression of M/D with
#   weights D, target = mean(D)/D (the working model of independent units
#   of D; clubSandwich rescales weights by their mean, so the target must be
#   the inverse of the rescaled weights), inverse_var = TRUE; the script
#   checks that for count denominators this equals the conversation-level
#   fit;
# - Imbens-Kolesar: the CR2 estimator's quadratic form in the cluster means
#   r, its eigenvalues under Var(r_k) = 1/D_k + rho (rho = sigma_nu^2 /
#   sigma_eps^2 estimated by the moment equations documented on
#   stats.crFit.randomEffectsRatio, computed here with dense (I - H)
#   matrices), df = (sum lambda)^2 / sum lambda^2.
suppressMessages(library(clubSandwich))
library(jsonlite)

set.seed(20261202)

# Dense Imbens-Kolesar df for the cluster-level WLS fit (X, D, r) and the
# CR2 (identity working model) estimator of contrast cc.
ik <- function(X, D, r, cc) {
  W <- diag(D)
  B <- solve(t(X) %*% W %*% X)
  H <- X %*% B %*% t(X) %*% W            # hat matrix on cluster means
  h <- diag(H)
  beta <- B %*% t(X) %*% W %*% r
  eps <- D * (r - X %*% beta)            # residual totals
  Ht <- diag(D) %*% X %*% B %*% t(X)     # hat matrix on totals
  IHt <- diag(length(D)) - Ht
  a <- diag(IHt %*% diag(D) %*% t(IHt))
  b <- diag(IHt %*% diag(D^2) %*% t(IHt))
  A <- rbind(c(sum(a), sum(b)), c(sum(a * D), sum(b * D)))
  if (abs(det(A)) <= 1e-12 * abs(A[1, 1] * A[2, 2])) {
    rho <- 0  # equal cluster sizes: rho is not identified and does not matter
  } else {
    s <- solve(A, c(sum(eps^2), sum(eps^2 * D)))
    rho <- if (s[2] <= 0) 0 else if (s[1] <= 0) Inf else s[2] / s[1]
  }
  g <- as.vector(t(cc) %*% B %*% t(X) %*% W)   # weight of r_k in the estimate
  Gm <- diag(g / sqrt(1 - h))
  M <- t(diag(length(D)) - H) %*% Gm %*% Gm %*% (diag(length(D)) - H)
  # Var(r_k) = 1/D_k + rho; rho = Inf: cluster means homoskedastic.
  Om <- if (is.infinite(rho)) diag(length(D)) else diag(1 / D + rho)
  R <- chol(Om)
  lam <- eigen(R %*% M %*% t(R), symmetric = TRUE, only.values = TRUE)$values
  list(rho = rho, df = sum(lam)^2 / sum(lam^2), var = sum((g * (r - X %*% beta))^2 / (1 - h)))
}

case_out <- list()
add_case <- function(name, kind, cl, cuped, conv = NULL) {
  # cl: data frame with arm, m, d, u, v per cluster.
  r <- cl$m / cl$d
  treat <- cl$arm
  if (cuped) {
    z <- ifelse(cl$v != 0, cl$u / cl$v, sum(cl$u) / sum(cl$v))
    X <- cbind(1 - treat, treat, z)
    form <- r ~ treat + z
  } else {
    X <- cbind(1 - treat, treat)
    form <- r ~ treat
  }
  fitc <- lm(form, data = data.frame(r = r, treat = treat, z = if (cuped) z else 0), weights = cl$d)
  Vc <- vcovCR(fitc, cluster = seq_len(nrow(cl)), type = "CR2", target = mean(cl$d) / cl$d, inverse_var = TRUE)
  ctc <- coef_test(fitc, vcov = Vc, test = "Satterthwaite")
  est <- unname(coef(fitc)["treat"])
  var_cr2 <- Vc["treat", "treat"]
  df_bm <- ctc$df_Satt[2]
  p_bm <- ctc$p_Satt[2]
  if (!is.null(conv)) {
    # Conversation level: the same estimate, CR2 variance and df.
    conv$zbar <- if (cuped) z[conv$shop] else 0
    f <- if (cuped) y ~ treat + zbar else y ~ treat
    fit <- lm(f, data = conv)
    V <- vcovCR(fit, cluster = conv$shop, type = "CR2")
    ct <- coef_test(fit, vcov = V, test = "Satterthwaite")
    stopifnot(isTRUE(all.equal(unname(coef(fit)["treat"]), est, tolerance = 1e-10)))
    stopifnot(isTRUE(all.equal(V["treat", "treat"], var_cr2, tolerance = 1e-10)))
    stopifnot(isTRUE(all.equal(ct$df_Satt[2], df_bm, tolerance = 1e-10)))
  }
  cc <- if (cuped) c(-1, 1, 0) else c(-1, 1)
  k <- ik(X, cl$d, r, cc)
  stopifnot(isTRUE(all.equal(k$var, var_cr2, tolerance = 1e-10)))
  tstat <- est / sqrt(var_cr2)
  exp <- list(estimate = est, var_cr2 = var_cr2, df_bm = df_bm, p_bm = p_bm,
              rho = if (is.infinite(k$rho)) "Inf" else k$rho, df_ik = k$df,
              p_ik = 2 * pt(-abs(tstat), k$df))
  if (!cuped) {
    # Fieller's ingredients: the CR2 variance of the control mean and its
    # covariance with the effect, from the model with one mean per arm.
    arm0 <- 1 - treat
    fit2 <- lm(r ~ 0 + arm0 + treat, weights = cl$d)
    V2 <- vcovCR(fit2, cluster = seq_len(nrow(cl)), type = "CR2", target = mean(cl$d) / cl$d, inverse_var = TRUE)
    exp$var_control_mean <- V2["arm0", "arm0"]
    exp$cov_effect_control_mean <- V2["treat", "arm0"] - V2["arm0", "arm0"]
  }
  case_out[[length(case_out) + 1]] <<- list(name = name, kind = kind, cuped = cuped,
    clusters = lapply(seq_len(nrow(cl)), function(i) as.list(cl[i, ])), expected = exp)
}

# Conversation-level data: shops of the given sizes and arms, a binary or
# skewed outcome with a shop effect, and a pre-period covariate.
conversations <- function(sizes, arm, kind) {
  shop <- rep(seq_along(sizes), sizes)
  a <- rnorm(length(sizes), 0, 0.6)[shop]
  if (kind == "proportion") {
    y <- rbinom(length(shop), 1, plogis(qlogis(0.15) + a))
    x <- rbinom(length(shop), 1, plogis(qlogis(0.15) + a))
  } else {
    y <- rbinom(length(shop), 1, 0.3) * exp(rnorm(length(shop), 3 + a, 1))
    x <- rbinom(length(shop), 1, 0.3) * exp(rnorm(length(shop), 3 + a, 1))
  }
  data.frame(shop = shop, treat = arm[shop], y = y, x = x)
}
sums <- function(conv, arm) {
  k <- length(arm)
  data.frame(arm = arm,
             m = as.vector(tapply(conv$y, factor(conv$shop, levels = 1:k), sum)),
             d = as.vector(tabulate(conv$shop, k)),
             u = as.vector(tapply(conv$x, factor(conv$shop, levels = 1:k), sum)),
             v = as.vector(tabulate(conv$shop, k)))
}

designs <- list(
  list(name = "equal 4+4", sizes = rep(6, 8), arm = c(0, 0, 0, 0, 1, 1, 1, 1)),
  list(name = "unequal 5+4", sizes = c(1, 3, 40, 7, 2, 60, 2, 9, 4), arm = c(0, 0, 0, 0, 0, 1, 1, 1, 1)),
  list(name = "lognormal 10+10", sizes = pmax(1, round(exp(log(20) + 1.2 * rnorm(20)))), arm = rep(c(0, 1), 10)),
  list(name = "one shop 70% of its arm 6+6", sizes = c(140, 10, 20, 5, 15, 10, 30, 25, 12, 8, 40, 20), arm = rep(c(0, 1), each = 6))
)
for (des in designs) {
  for (kind in c("proportion", "mean")) {
    conv <- conversations(des$sizes, des$arm, kind)
    cl <- sums(conv, des$arm)
    for (cuped in c(FALSE, TRUE)) {
      add_case(paste(kind, des$name), kind, cl, cuped, conv)
    }
  }
}

# Ratio metrics with a general denominator (revenue per order): cluster
# level only, with a ratio covariate.
for (des in list(list(k0 = 7, k1 = 6), list(k0 = 12, k1 = 15))) {
  k <- des$k0 + des$k1
  d <- rpois(k, exp(rnorm(k, 2, 1))) + 1
  m <- d * exp(rnorm(k, 4, 0.5)) * exp(rnorm(k, 0, 0.3))
  v <- rpois(k, 5) + 1
  u <- v * exp(rnorm(k, 4, 0.5))
  cl <- data.frame(arm = c(rep(0, des$k0), rep(1, des$k1)), m = m, d = d, u = u, v = v)
  for (cuped in c(FALSE, TRUE)) {
    add_case(sprintf("ratio %d+%d", des$k0, des$k1), "ratio", cl, cuped)
  }
}

cat(toJSON(list(
  generator = "stats/testdata/gen_cr2_reference.R",
  r_version = R.version.string,
  clubSandwich = as.character(packageVersion("clubSandwich")),
  cases = case_out), auto_unbox = TRUE, digits = NA, pretty = TRUE))
cat("\n")
