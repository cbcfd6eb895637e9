mod chart;
